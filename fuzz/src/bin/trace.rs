//! Fuzz target: a trace CSV (time, population, rate or count).

fn main() {
    let tree = cutover_fuzz::scenario_tree();
    afl::fuzz!(|data: &[u8]| {
        cutover_fuzz::load_bytes(&tree, "traces/fuzz-input.csv", data);
    });
}
