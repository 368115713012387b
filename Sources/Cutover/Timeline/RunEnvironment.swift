import Foundation
import MockUpstream

/// What a run stands on: the blue and green mocks, the control path's own mock, and the
/// router between blue and green. Started once, in order, and stopped in one place: a step
/// that fails to start stops whatever started before it.
struct RunEnvironment: Sendable {
    let mocks: [ServedBy: MockUpstream]
    /// The control path's upstream: no faults, no router, the same machine.
    let control: MockUpstream
    let router: any RouterDriver
    let routerURL: String
    let build: RouterBuild

    static func start(suite: Suite, seed: UInt64, router: any RouterDriver, workdir: URL, listenHost: String) async throws(SuiteRunner.EnvironmentError)
        -> RunEnvironment
    {
        var mocks: [ServedBy: MockUpstream] = [:]
        for env in [ServedBy.blue, .green] {
            let spec = suite.upstreams[env] ?? UpstreamSpec()
            mocks[env] = MockUpstream(
                configuration: MockConfiguration(
                    name: env.name, seed: SuiteRunner.mockSeed(seed, for: env), models: spec.models, apiKey: spec.apiKey, faults: spec.faults))
        }
        let control = MockUpstream(configuration: MockConfiguration(name: "control", seed: seed &+ 0xC0, models: MockConfiguration.defaultModels))
        let mockList = Array(mocks.values) + [control]
        do {
            for mock in mockList { try await mock.start() }
        } catch {
            await stop(mockList, router: nil)
            throw SuiteRunner.EnvironmentError(.mocks, cause: "\(error)")
        }
        do {
            let url = try await router.start(
                RouterEnvironment(
                    blue: mocks[.blue]!.url, green: mocks[.green]!.url, workdir: workdir, upstreamAPIKey: suite.upstreamAPIKey, listenHost: listenHost))
            return RunEnvironment(mocks: mocks, control: control, router: router, routerURL: url, build: await router.build())
        } catch {
            await stop(mockList, router: router)
            throw SuiteRunner.EnvironmentError(.router(profile: router.profile), cause: "\(error)")
        }
    }

    /// Stops the router, then the mocks.
    func stop() async {
        await Self.stop(Array(mocks.values) + [control], router: router)
    }

    private static func stop(_ mocks: [MockUpstream], router: (any RouterDriver)?) async {
        await router?.stop()
        for mock in mocks { await mock.shutdown() }
    }
}
