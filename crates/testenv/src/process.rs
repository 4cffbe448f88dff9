//! Child processes that never outlive the process that started them.
//!
//! A test binary's statics are never dropped, and it may exit through a panic, so cleanup
//! cannot rely on destructors. Instead every child asks the kernel to kill it when its
//! parent goes away (`PR_SET_PDEATHSIG`). The kernel means the parent *thread*, so all
//! children are spawned from one thread that lives as long as the process.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Sender, SyncSender, sync_channel};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};

type SpawnRequest = (Command, SyncSender<std::io::Result<Child>>);

/// A running child, killed when dropped.
pub struct Process {
    pub name: String,
    child: Child,
}

impl Process {
    /// Starts `command` with its output in `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Process> {
        let output = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: prctl, getppid and _exit are async-signal-safe, as pre_exec requires.
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // The parent may have died before prctl took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let (reply, response) = sync_channel(1);
        spawner()
            .lock()
            .expect("spawner lock")
            .send((command, reply))
            .context("process spawner is gone")?;
        let child = response
            .recv()
            .context("process spawner is gone")?
            .with_context(|| format!("starting {name}"))?;
        Ok(Process {
            name: name.to_string(),
            child,
        })
    }

    /// The operating system's process ID.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawner() -> &'static Mutex<Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (requests, incoming) = std::sync::mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testenv-spawner".into())
            .spawn(move || {
                // The sender lives in a static, so this loop (and the thread) ends only
                // with the process, taking the children with it.
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("spawning the process spawner thread");
        Mutex::new(requests)
    })
}
