//! `seedctl demo`, as the README's first command runs it: the whole job on
//! this machine, ending READY, with nothing left behind.

use std::process::Command;

#[test]
fn the_demo_runs_the_whole_job_and_cleans_up() {
    let out = Command::new(env!("CARGO_BIN_EXE_seedctl"))
        .arg("demo")
        .env("SEEDCTL_LOG", "warn")
        .output()
        .expect("seedctl demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");

    let steps = [
        "$ seedctl preflight",
        "preflight passed",
        "$ seedctl plan plans/paper-seed.yaml",
        "$ seedctl apply --auto-approve plans/paper-seed.yaml",
        "$ seedctl plan --detailed-exitcode plans/paper-seed.yaml",
        "No changes.",
        "$ seedctl status plans/paper-seed.yaml",
        "READY: 3 symbols, 90 sessions covered",
        "removed the throwaway database",
    ];
    let mut rest = stdout.as_ref();
    for step in steps {
        let at = rest
            .find(step)
            .unwrap_or_else(|| panic!("`{step}` in order in:\n{stdout}"));
        rest = &rest[at + step.len()..];
    }

    let url = stdout.lines().nth(1).expect("the database URL line").trim();
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .expect("a port");
    let gone = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err();
    assert!(gone, "the throwaway database at {url} was stopped");
}
