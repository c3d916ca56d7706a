//! Fuzz target: any TOML file handed to the loaders behind `cutover
//! validate` (M/M/c, compute, network, cost, plan scenarios and price books),
//! read from the scenarios/ directory so that the files it names exist.

fn main() {
    let tree = cutover_fuzz::scenario_tree();
    afl::fuzz!(|data: &[u8]| {
        cutover_fuzz::load_bytes(&tree, "fuzz-input.toml", data);
    });
}
