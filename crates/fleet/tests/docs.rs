//! The documentation holds together: every "ARCHITECTURE §N" cited in the code names a section
//! (and rule) of `docs/architecture.md`, and every relative link of the README and `docs/`
//! points at a file that exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !matches!(
                p.file_name().and_then(|n| n.to_str()),
                Some("vendor" | "target")
            ) {
                files(&p, out);
            }
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("rs" | "sql" | "js" | "html" | "md" | "toml")
        ) {
            out.push(p);
        }
    }
}

/// (section, rule) of every citation in `text`: "ARCHITECTURE §1 rule 6" → ("1", Some(6)),
/// "ARCHITECTURE §1.1" → ("1", Some(1)), "ARCHITECTURE §6" → ("6", None).
fn citations(text: &str) -> Vec<(String, Option<u32>)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("ARCHITECTURE §") {
        let rest = &text[i + "ARCHITECTURE §".len()..];
        let sec: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let sec = sec.trim_end_matches('.');
        if !sec.starts_with(|c: char| c.is_ascii_digit()) {
            continue; // "§N" in prose about citations
        }
        let after = &rest[sec.len()..];
        let (sec, rule) = match sec.split_once('.') {
            Some((s, r)) => (s.to_string(), r.parse().ok()),
            None => {
                let rule = after
                    .strip_prefix(" rule ")
                    .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|r| r.parse().ok());
                (sec.to_string(), rule)
            }
        };
        out.push((sec, rule));
    }
    out
}

#[test]
fn every_architecture_citation_resolves_to_docs_architecture() {
    let doc =
        std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    let rules_of_1: Vec<u32> = doc
        .split("## §1 ")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a §1 section")
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .split_once(". **")
                .and_then(|(n, _)| n.parse().ok())
        })
        .collect();
    let mut all = Vec::new();
    for dir in ["crates", "migrations", "sql", "schema"] {
        files(&root().join(dir), &mut all);
    }
    let mut cited = 0;
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (sec, rule) in citations(&text) {
            cited += 1;
            assert!(
                doc.contains(&format!("\n## §{sec} ")),
                "{} cites ARCHITECTURE §{sec}, which docs/architecture.md has no section for",
                f.display()
            );
            if let Some(r) = rule {
                assert!(
                    sec == "1" && rules_of_1.contains(&r),
                    "{} cites §{sec} rule {r}, which is not a rule of docs/architecture.md §1",
                    f.display()
                );
            }
        }
    }
    assert!(
        cited > 20,
        "only {cited} citations found: is the scan looking in the right place?"
    );
    assert_eq!(
        citations("see ARCHITECTURE §1 rule 6."),
        vec![("1".into(), Some(6))]
    );
    assert_eq!(
        citations("(ARCHITECTURE §1.1)"),
        vec![("1".into(), Some(1))]
    );
    assert_eq!(
        citations("ARCHITECTURE §6a, and"),
        vec![("6a".into(), None)]
    );
}

#[test]
fn every_relative_link_of_the_docs_points_at_a_file() {
    let mut docs = vec![root().join("README.md")];
    files(&root().join("docs"), &mut docs);
    for f in docs
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "md"))
    {
        let text = std::fs::read_to_string(f).expect("read");
        for (i, _) in text.match_indices("](") {
            let target: String = text[i + 2..].chars().take_while(|c| *c != ')').collect();
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            let resolved = f.parent().expect("dir").join(path);
            assert!(
                resolved.exists(),
                "{} links to {target}, which does not exist",
                f.display()
            );
        }
    }
}
