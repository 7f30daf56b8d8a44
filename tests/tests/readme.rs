//! The README's first example is the code of `examples/readme_transfer.rs` and its Lua file
//! `examples/lua/transfer.lua`, so that what a newcomer copies is what CI runs (`cargo run -p
//! redis-script-examples --example transfer`); and the README's list of examples is the list
//! of examples registered in `examples/Cargo.toml`.

use std::path::Path;

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The body of the first fenced block of `language` in `text`.
fn first_block<'a>(text: &'a str, language: &str) -> &'a str {
    let fence = format!("```{language}\n");
    let start = text
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{language} block"))
        + fence.len();
    let length = text[start..].find("```\n").expect("an unclosed block");
    &text[start..start + length]
}

#[test]
fn first_example_is_the_transfer_example() {
    let readme = read("README.md");
    assert_eq!(
        first_block(&readme, "rust"),
        read("examples/readme_transfer.rs")
    );
    assert_eq!(
        first_block(&readme, "lua"),
        read("examples/lua/transfer.lua")
    );
}

#[test]
fn examples_table_lists_every_example() {
    let readme = read("README.md");
    let section = &readme[readme.find("\n## Examples\n").expect("an Examples section")..];
    let section = &section[..section[1..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 1)];
    let mut listed: Vec<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
        .collect();
    let manifest = read("examples/Cargo.toml");
    let mut registered: Vec<&str> = manifest
        .lines()
        .filter_map(|line| line.strip_prefix("name = \"")?.strip_suffix('"'))
        .filter(|name| *name != "redis-script-examples")
        .collect();
    listed.sort_unstable();
    registered.sort_unstable();
    assert_eq!(listed, registered);
}
