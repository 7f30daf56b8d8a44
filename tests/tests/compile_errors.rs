//! Compile-fail (and compile-pass) tests of `#[derive(RedisScript)]`: one case per diagnostic,
//! each with its expected compiler output checked in next to it as a `.stderr` file.
//!
//! Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p redis-script-tests --test compile_errors`, then read them.
//!
//! The derive resolves `path` against `CARGO_MANIFEST_DIR`, and trybuild builds each case as a
//! binary of a crate it generates in `<target-dir>/tests/trybuild/redis-script-tests/`, so that
//! is the directory a case's `path` is relative to. Before running the cases, this test copies
//! every `.lua` file under `ui/` to the same relative path in that crate's directory, so that a
//! case names its script `ui/lua/<case>.lua`, as it would in a crate of its own. (trybuild
//! offers no way to add files to the generated crate: dtolnay/trybuild#95, #202.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

#[test]
fn compile_errors() {
    keep_target_directory_in_workspace();
    copy_lua_files_into_trybuild_crate();
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
    cases.pass("ui/pass/*.rs");
}

/// Two `.stderr` files show a resolved path under trybuild's crate, which trybuild writes as
/// `$WORKSPACE/target/...` only when the target directory is inside the workspace. With a
/// `CARGO_TARGET_DIR` elsewhere, the cases build in the workspace's `target/` instead.
fn keep_target_directory_in_workspace() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace");
    if !target_directory().starts_with(workspace) {
        // SAFETY: this binary has this one test, so no other thread reads the environment.
        unsafe { env::set_var("CARGO_TARGET_DIR", workspace.join("target")) };
    }
}

fn copy_lua_files_into_trybuild_crate() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    // The directory trybuild generates its crate in, computed the way trybuild does.
    let project = target_directory()
        .join("tests")
        .join("trybuild")
        .join(env!("CARGO_PKG_NAME"));
    let destination = project.join("ui");
    if destination.exists() {
        fs::remove_dir_all(&destination).expect("remove the previous copy of ui/");
    }
    copy_lua_files(&source, &destination);
}

fn copy_lua_files(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read tests/ui") {
        let path = entry.expect("read tests/ui").path();
        let target = to.join(path.file_name().expect("a directory entry has a name"));
        if path.is_dir() {
            copy_lua_files(&path, &target);
        } else if path.extension().is_some_and(|extension| extension == "lua") {
            fs::create_dir_all(to).expect("create the Lua directory in trybuild's crate");
            fs::copy(&path, &target).expect("copy a Lua file into trybuild's crate");
        }
    }
}

/// `target_directory` from `cargo metadata`, as trybuild reads it.
fn target_directory() -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version=1"])
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata failed: {output:?}");
    let json = String::from_utf8(output.stdout).expect("cargo metadata prints UTF-8");
    let key = "\"target_directory\":\"";
    let start = json
        .find(key)
        .expect("cargo metadata names the target directory")
        + key.len();
    // A JSON string: read up to the closing quote, undoing the escapes a path can contain.
    let mut path = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return PathBuf::from(path),
            '\\' => match chars.next() {
                Some(escaped @ ('"' | '\\' | '/')) => path.push(escaped),
                other => panic!("unexpected escape \\{other:?} in the target directory"),
            },
            c => path.push(c),
        }
    }
    panic!("unterminated target_directory in cargo metadata's output");
}
