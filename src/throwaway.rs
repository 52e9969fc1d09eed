//! A throwaway PostgreSQL cluster started from the system's server binaries,
//! for `seedctl demo` and for the test suite.
//!
//! The cluster lives in a fresh directory under the system's temp dir, listens
//! on a free loopback port with `trust` authentication, and is gone when
//! [`ThrowawayPostgres::stop`] returns. It is not a way to run a real
//! database: durability settings are relaxed for speed.
//!
//! PostgreSQL refuses to run as root, so as root the server runs as the
//! `postgres` system user that Debian's packages create. The server process is
//! tied to the thread that started it (`PR_SET_PDEATHSIG`), which lives until
//! the server exits: if our process dies without stopping it, the kernel stops
//! it for us.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The user the server runs as when we are root.
const SYSTEM_USER: &str = "postgres";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const DIR_PREFIX: &str = "seedctl-pg-";

#[derive(Debug, thiserror::Error)]
pub enum ThrowawayError {
    #[error(
        "the PostgreSQL server binaries (initdb, postgres) were not found in $PATH, \
         $SEEDCTL_PG_BINDIR or /usr/lib/postgresql/*/bin; install the server, for example \
         `apt-get install postgresql` on Debian or Ubuntu"
    )]
    BinariesMissing,
    #[error(
        "running as root, but there is no `postgres` system user to run the server as; \
         install Debian's `postgresql` package or run seedctl as an ordinary user"
    )]
    NoSystemUser,
    #[error("{step} failed: {detail}")]
    Step { step: &'static str, detail: String },
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// How the cluster should be set up.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep `fsync` and `synchronous_commit` on, for benchmarks whose figures
    /// should mean something. Off by default: tests want speed.
    pub durable: bool,
    /// Let the server outlive this process (`demo --keep`): it is not tied to
    /// our lifetime, runs in its own session so that Ctrl-C does not reach it,
    /// and its directory is marked so that no later run removes it.
    pub outlive_process: bool,
}

/// A running throwaway cluster. Stop it with [`ThrowawayPostgres::stop`];
/// dropping it without stopping leaves the server running until the process
/// exits.
pub struct ThrowawayPostgres {
    dir: PathBuf,
    port: u16,
    pid: u32,
    supervisor: Option<JoinHandle<()>>,
}

impl ThrowawayPostgres {
    /// Creates a cluster and waits until it accepts connections.
    pub fn start(options: &Options) -> Result<Self, ThrowawayError> {
        let bindir = find_bindir().ok_or(ThrowawayError::BinariesMissing)?;
        let runas = server_user()?;
        remove_abandoned_dirs();
        let dir = make_dir(runas)?;
        if options.outlive_process {
            let marker = dir.join("KEEP");
            fs::write(&marker, "left running by `seedctl demo --keep`\n").map_err(|source| {
                ThrowawayError::Io {
                    action: "create",
                    path: marker,
                    source,
                }
            })?;
        }
        initdb(&bindir, &dir, runas)?;

        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port().map_err(|source| ThrowawayError::Io {
                action: "find a free port on",
                path: "127.0.0.1".into(),
                source,
            })?;
            match launch(&bindir, &dir, port, runas, options) {
                Ok((pid, supervisor)) => {
                    let cluster = ThrowawayPostgres {
                        dir,
                        port,
                        pid,
                        supervisor: Some(supervisor),
                    };
                    match cluster.wait_until_ready() {
                        Ok(()) => return Ok(cluster),
                        Err(e) => {
                            cluster.stop();
                            return Err(e);
                        }
                    }
                }
                Err(e) => last_error = Some(e),
            }
        }
        let _ = fs::remove_dir_all(&dir);
        Err(last_error.expect("three attempts were made"))
    }

    /// The connection URL of a database in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SYSTEM_USER}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (data and server log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Shuts the server down (fast mode: open sessions are ended) and removes
    /// its directory.
    pub fn stop(mut self) {
        // SAFETY: kill(2) with a pid we started and still supervise.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGINT) };
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.join();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }

    /// Leaves the server running after this process exits. Only a cluster
    /// started with [`Options::outlive_process`] survives that exit.
    pub fn detach(mut self) -> PathBuf {
        self.supervisor.take();
        self.dir.clone()
    }

    fn wait_until_ready(&self) -> Result<(), ThrowawayError> {
        let pidfile = self.dir.join("data/postmaster.pid");
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            // The server writes its status as the pid file's last line.
            if fs::read_to_string(&pidfile)
                .is_ok_and(|s| s.lines().last().map(str::trim) == Some("ready"))
            {
                return Ok(());
            }
            if self.supervisor.as_ref().is_none_or(|s| s.is_finished()) {
                return Err(self.failure("starting the server"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(self.failure("waiting for the server to accept connections"))
    }

    fn failure(&self, step: &'static str) -> ThrowawayError {
        let log = fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        let detail = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
        ThrowawayError::Step { step, detail }
    }
}

/// The uid and gid to run the server as, when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

fn server_user() -> Result<Option<RunAs>, ThrowawayError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new(SYSTEM_USER).expect("no NUL in a constant");
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy
    // the two fields out before any other call could overwrite it.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(ThrowawayError::NoSystemUser);
    }
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some(RunAs { uid, gid }))
}

fn find_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("SEEDCTL_PG_BINDIR").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find_map(|dir| {
            let initdb = fs::canonicalize(dir.join("initdb")).ok()?;
            let real_dir = initdb.parent()?.to_path_buf();
            has_server(&real_dir).then_some(real_dir)
        });
    on_path.or_else(|| newest_debian_bindir(Path::new("/usr/lib/postgresql"), has_server))
}

fn newest_debian_bindir(root: &Path, has_server: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(root)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_server(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn make_dir(runas: Option<RunAs>) -> Result<PathBuf, ThrowawayError> {
    let nonce: u64 = rand::random();
    let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}-{nonce:x}", std::process::id()));
    let io_err = |action| {
        let path = dir.clone();
        move |source| ThrowawayError::Io {
            action,
            path,
            source,
        }
    };
    fs::create_dir(&dir).map_err(io_err("create"))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io_err("set mode on"))?;
    if let Some(user) = runas {
        chown(&dir, Some(user.uid), Some(user.gid)).map_err(io_err("give the server user"))?;
    }
    Ok(dir)
}

/// Removes clusters left behind by processes that no longer exist (killed
/// before they could clean up).
fn remove_abandoned_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        let kept = entry.path().join("KEEP").exists();
        if !kept && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn initdb(bindir: &Path, dir: &Path, runas: Option<RunAs>) -> Result<(), ThrowawayError> {
    let mut cmd = Command::new(bindir.join("initdb"));
    cmd.arg("-D")
        .arg(dir.join("data"))
        .args([
            "-U",
            SYSTEM_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .stdin(Stdio::null());
    as_user(&mut cmd, runas, false);
    let output = cmd.output().map_err(|source| ThrowawayError::Io {
        action: "run",
        path: bindir.join("initdb"),
        source,
    })?;
    if output.status.success() {
        return Ok(());
    }
    let detail = String::from_utf8_lossy(&output.stderr)
        .trim()
        .replace('\n', " | ");
    Err(ThrowawayError::Step {
        step: "initdb",
        detail,
    })
}

fn launch(
    bindir: &Path,
    dir: &Path,
    port: u16,
    runas: Option<RunAs>,
    options: &Options,
) -> Result<(u32, JoinHandle<()>), ThrowawayError> {
    let log = dir.join("server.log");
    let log_file = fs::File::create(&log).map_err(|source| ThrowawayError::Io {
        action: "create",
        path: log.clone(),
        source,
    })?;
    if let Some(user) = runas {
        let _ = chown(&log, Some(user.uid), Some(user.gid));
    }
    let durability = if options.durable { "on" } else { "off" };
    let mut cmd = Command::new(bindir.join("postgres"));
    cmd.arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(setting("unix_socket_directories", dir.as_os_str()))
        .args(["-c", &format!("fsync={durability}")])
        .args(["-c", &format!("synchronous_commit={durability}")])
        .args(["-c", &format!("full_page_writes={durability}")])
        .args(["-c", "max_connections=200"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    as_user(&mut cmd, runas, !options.outlive_process);
    if options.outlive_process {
        cmd.process_group(0);
    }

    // The server is started from a thread that waits for it, so that the
    // death signal fires only when the process (not some short-lived thread)
    // goes away.
    let (started, pid) = mpsc::channel();
    let supervisor = std::thread::Builder::new()
        .name("postgres-supervisor".into())
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = started.send(Ok(child.id()));
                let _ = child.wait();
            }
            Err(e) => {
                let _ = started.send(Err(e));
            }
        })
        .map_err(|source| ThrowawayError::Io {
            action: "start a thread for",
            path: log,
            source,
        })?;
    let pid = pid
        .recv()
        .expect("the supervisor always answers")
        .map_err(|source| ThrowawayError::Io {
            action: "run",
            path: bindir.join("postgres"),
            source,
        })?;
    Ok((pid, supervisor))
}

fn setting(name: &str, value: &OsStr) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(format!("{name}="));
    s.push(value);
    s
}

/// Drops root for the child, and (for the server) asks the kernel to stop it
/// when its parent thread goes away.
fn as_user(cmd: &mut Command, runas: Option<RunAs>, die_with_parent: bool) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if die_with_parent && libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(io::Error::last_os_error());
            }
            if let Some(user) = runas
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(user.gid) != 0
                    || libc::setuid(user.uid) != 0)
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_answers_and_cleans_up() {
        let cluster = ThrowawayPostgres::start(&Options::default()).expect("cluster starts");
        let dir = cluster.dir().to_path_buf();
        assert!(
            cluster
                .url("postgres")
                .starts_with("postgres://postgres@127.0.0.1:")
        );
        std::net::TcpStream::connect(("127.0.0.1", cluster.port())).expect("server listens");
        cluster.stop();
        assert!(!dir.exists(), "the cluster's directory is removed on stop");
    }
}
