// The mock upstream relay is part of the public API (faults in suites built in code, and
// tests that want only the mock), so `import Cutover` brings it along.
@_exported import MockUpstream
