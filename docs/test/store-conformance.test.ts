// The writing-a-driver page's sample registers the conformance suite itself, as a user's test file would.
import "../samples/store-conformance.ts"
