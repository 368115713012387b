// The harness library's public surface. Later parts (load generator, suites, checks,
// reports) live here; the HTTP client, the input parser and the mock are re-exported
// so that `import Cutover` is all a test needs.
@_exported import ConfigInput
@_exported import CurlHTTP
@_exported import HTTPServerCore
@_exported import MockUpstream
