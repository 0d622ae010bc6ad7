/**
 * A circuit breaker for the shared tier: after `failures` consecutive
 * failures it opens and calls fail at once for `cooldownMillis`; then one
 * probe call is let through (half-open), whose outcome closes or reopens it.
 * While open, the cache serves from L1 and the loader instead of waiting on
 * a tier that is down.
 */
export type CircuitState = "closed" | "open" | "half-open"

export class Circuit {
  state: CircuitState = "closed"
  private consecutive = 0
  private openedAt = 0
  private probing = false

  constructor(
    private readonly failures: number,
    private readonly cooldownMillis: number,
    private readonly now: () => number,
    private readonly onChange: (state: CircuitState) => void,
  ) {}

  /** Whether a call may go to the tier now. */
  allow(): boolean {
    if (this.state === "closed") return true
    if (this.state === "open" && this.now() - this.openedAt >= this.cooldownMillis) this.set("half-open")
    if (this.state === "half-open" && !this.probing) {
      this.probing = true
      return true
    }
    return false
  }

  success(): void {
    this.consecutive = 0
    this.probing = false
    if (this.state !== "closed") this.set("closed")
  }

  failure(): void {
    this.consecutive++
    this.probing = false
    if (this.state === "half-open" || (this.state === "closed" && this.consecutive >= this.failures)) {
      this.openedAt = this.now()
      this.set("open")
    }
  }

  private set(state: CircuitState): void {
    this.state = state
    this.onChange(state)
  }
}
