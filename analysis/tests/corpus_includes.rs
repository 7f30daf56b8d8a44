//! The corpus of `tests/corpus_includes/`: 30 job-queue, lock and rate-limit scripts that share
//! helper files through `--- @include` directives, nested, as a large Node job-queue library
//! organises its scripts. `examples/analysis_speed.rs` times the analysis on it; this test makes
//! sure that what is timed is valid: every script assembles, and the analysis finds nothing to
//! report once the declaration has as many keys and args as the script reads.

use std::path::{Path, PathBuf};

use redis_script_analysis::{
    AssembledScript, Declaration, Field, ScriptFiles, analyze_script, assemble_script,
};

/// Reads script files from a directory on disk.
struct Disk(PathBuf);

impl ScriptFiles for Disk {
    fn read(&mut self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.0.join(path))
    }

    fn describe(&self, path: &str) -> String {
        self.0.join(path).display().to_string()
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus_includes")
}

/// The scripts of the corpus (not the included files), as paths relative to its directory.
fn scripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("the corpus directory exists")
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "lua"))
        .map(|path| {
            path.file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A declaration with one plain field for every `KEYS[n]` / `ARGV[n]` up to the highest the
/// analysis finds the script reading; `standalone_only`, since these scripts build job keys
/// from a prefix as the library they imitate does, which only a standalone server allows.
fn declaration_for(script: &AssembledScript) -> Declaration {
    let mut declaration = Declaration {
        name: "CorpusScript".into(),
        keys: vec![],
        args: vec![],
        standalone_only: true,
        extra_commands: vec![],
        allow: vec![],
        returns: Default::default(),
    };
    let first = analyze_script(script, &declaration);
    let fields = |prefix: &str, highest: Option<u64>| -> Vec<Field> {
        (1..=highest.unwrap_or(0))
            .map(|n| Field::single(format!("{prefix}{n}")))
            .collect()
    };
    declaration.keys = fields("key", first.keys.highest_literal_index());
    declaration.args = fields("arg", first.args.highest_literal_index());
    declaration
}

#[test]
fn every_script_assembles_and_passes_the_analysis() {
    let scripts = scripts();
    let mut files = Disk(corpus_dir());
    let mut nested = 0;
    let mut failures = Vec::new();
    for name in &scripts {
        let script = match assemble_script(name, &mut files) {
            Ok(script) => script,
            Err(diagnostics) => {
                for diagnostic in diagnostics {
                    failures.push(diagnostic.render(name));
                }
                continue;
            }
        };
        assert!(
            script.files.len() > 1,
            "{name} includes no helper: the corpus is about includes"
        );
        // An included file's own directives bring in more files.
        if script.files.iter().skip(1).any(|file| {
            script
                .source
                .contains(&format!("-- @include \"{}\"", stem(file)))
        }) {
            nested += 1;
        }
        let analysis = analyze_script(&script, &declaration_for(&script));
        for diagnostic in &analysis.diagnostics {
            failures.push(diagnostic.render(name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(scripts.len(), 30, "{scripts:?}");
    assert!(
        nested >= 10,
        "only {nested} scripts include files through other included files"
    );
}

/// `includes/removeJob.lua` as an included file names it (`"removeJob"`).
fn stem(file: &str) -> &str {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.strip_suffix(".lua").unwrap_or(name)
}
