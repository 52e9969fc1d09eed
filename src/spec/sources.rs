//! Turns the paths given on the command line into the list of coverage files
//! to read, in the order they are merged.
//!
//! A file is taken as it is, whatever its name; a directory stands for its
//! `*.yaml` and `*.yml` files, not recursively, sorted by name. Hidden files
//! (`.name.yaml`) are skipped, as editors and copy tools leave them behind.
//! Paths keep the spelling the user gave, so messages show them that way.
//! Reading the files is not done here.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use super::SpecError;

/// The coverage files behind `paths`, each once, in merge order.
pub(crate) fn list(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SpecError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(yaml_files_in(path)?);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(SpecError::Missing {
                path: path.display().to_string(),
            });
        }
    }

    let files = without_repeats(files);
    if files.is_empty() {
        let looked_in: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let looked_in = if looked_in.is_empty() {
            "no path given".to_string()
        } else {
            looked_in.join(", ")
        };
        return Err(SpecError::NoFiles { looked_in });
    }
    Ok(files)
}

fn yaml_files_in(dir: &Path) -> Result<Vec<PathBuf>, SpecError> {
    let unreadable = |err: io::Error| SpecError::Read {
        path: dir.display().to_string(),
        reason: err.to_string(),
    };

    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_coverage_file_name(&name) && entry.path().is_file() {
            names.push(name);
        }
    }

    names.sort();
    Ok(names.into_iter().map(|name| dir.join(name)).collect())
}

fn is_coverage_file_name(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// Drops later mentions of a file already listed (`plans plans/a.yaml`), which
/// would otherwise define each of its groups twice.
fn without_repeats(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    files
        .into_iter()
        .filter(|file| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            std::fs::write(dir.join(name), "").unwrap();
        }
    }

    #[test]
    fn directories_give_their_yaml_files_sorted_by_name() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &["b.yml", "a.yaml", "c.txt", ".hidden.yaml", "z.yaml.bak"],
        );
        std::fs::create_dir(dir.path().join("nested.yaml")).unwrap();
        touch(&dir.path().join("nested.yaml"), &["deep.yaml"]);

        let files = list(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a.yaml", "b.yml"]);
    }

    #[test]
    fn files_are_taken_whatever_their_name_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["a.yaml", "coverage.txt"]);
        let txt = dir.path().join("coverage.txt");
        let paths = [
            dir.path().to_path_buf(),
            dir.path().join("a.yaml"),
            txt.clone(),
        ];

        let files = list(&paths).unwrap();
        assert_eq!(files, [dir.path().join("a.yaml"), txt]);
    }

    #[test]
    fn missing_paths_and_empty_directories_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(matches!(list(&[missing]), Err(SpecError::Missing { .. })));
        assert!(matches!(
            list(&[dir.path().to_path_buf()]),
            Err(SpecError::NoFiles { .. })
        ));
        assert!(matches!(list(&[]), Err(SpecError::NoFiles { .. })));
    }
}
