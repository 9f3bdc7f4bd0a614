/// Plans prepared by a layer, by input shape (a layer sees few distinct shapes: the training
/// batch, the last smaller batch, evaluation).
struct PlanCache<Plan> {
    private var plans: [[Int]: Plan] = [:]

    mutating func plan(for shape: [Int], _ make: () throws -> Plan) rethrows -> Plan {
        if let plan = plans[shape] { return plan }
        let plan = try make()
        if plans.count >= 4 { plans.removeAll() }
        plans[shape] = plan
        return plan
    }
}
