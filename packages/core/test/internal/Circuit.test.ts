import { describe, expect, it } from "vitest"
import { Circuit, type CircuitState } from "../../src/internal/circuit.ts"

const make = (failures = 3, cooldown = 100) => {
  const clock = { now: 0 }
  const changes: Array<CircuitState> = []
  const circuit = new Circuit(
    failures,
    cooldown,
    () => clock.now,
    (state) => changes.push(state),
  )
  return { circuit, clock, changes }
}

describe("Circuit: fail fast while the tier is down, probe once per cooldown", () => {
  it("opens after `failures` consecutive failures; a success in between resets the count", () => {
    const { circuit, changes } = make(3)
    circuit.failure()
    circuit.failure()
    circuit.success()
    circuit.failure()
    circuit.failure()
    expect(circuit.state).toBe("closed")
    circuit.failure()
    expect(circuit.state).toBe("open")
    expect(circuit.allow()).toBe(false)
    expect(changes).toEqual(["open"])
  })

  it("after the cooldown lets exactly one probe through; its success closes the circuit", () => {
    const { circuit, clock, changes } = make(1, 100)
    circuit.failure()
    clock.now = 99
    expect(circuit.allow()).toBe(false)
    clock.now = 100
    expect(circuit.allow()).toBe(true)
    expect(circuit.allow()).toBe(false)
    circuit.success()
    expect(circuit.state).toBe("closed")
    expect(changes).toEqual(["open", "half-open", "closed"])
  })

  it("a failed probe reopens it for another cooldown", () => {
    const { circuit, clock } = make(1, 100)
    circuit.failure()
    clock.now = 100
    expect(circuit.allow()).toBe(true)
    circuit.failure()
    expect(circuit.state).toBe("open")
    clock.now = 199
    expect(circuit.allow()).toBe(false)
    clock.now = 200
    expect(circuit.allow()).toBe(true)
  })
})
