//! CPU affinity for a measurement at concurrency 1 (Linux).
//!
//! At concurrency 1 a client and a server never run at the same time: each waits for the
//! other's answer. On two CPUs every hand-over then wakes the other CPU, and on a virtual
//! machine an idle virtual CPU is halted, so each wake-up is an inter-processor interrupt
//! and a VM exit: tens of µs per hop, twice per request, whatever the server does. Pinning
//! the client and the server to one CPU makes each hand-over a local context switch, so
//! the figure measures the server's work, not the hypervisor's wake-up latency. Both
//! servers of a comparison are measured the same way.

use std::path::PathBuf;

/// The CPUs `tid` may run on.
fn affinity(tid: libc::pid_t) -> Result<libc::cpu_set_t, String> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the size passed is its own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(format!(
                "sched_getaffinity({tid}): {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(set)
    }
}

/// Lets `tid` run on `set` only. A thread that ended meanwhile is not an error.
fn set_affinity(tid: libc::pid_t, set: &libc::cpu_set_t) -> Result<(), String> {
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), set) };
    let err = std::io::Error::last_os_error();
    if rc != 0 && err.raw_os_error() != Some(libc::ESRCH) {
        return Err(format!("sched_setaffinity({tid}): {err}"));
    }
    Ok(())
}

/// The threads of process `pid` (`/proc/PID/task`).
fn threads(pid: u32) -> Result<Vec<libc::pid_t>, String> {
    let dir = PathBuf::from(format!("/proc/{pid}/task"));
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

/// Every thread of process `pid` on `set` (threads it starts later inherit it).
fn pin_process(pid: u32, set: &libc::cpu_set_t) -> Result<(), String> {
    threads(pid)?
        .into_iter()
        .try_for_each(|tid| set_affinity(tid, set))
}

/// This process and a server process on one CPU until dropped, when both get back the
/// CPUs they had.
pub struct OneCpu {
    server: u32,
    mine: libc::cpu_set_t,
    theirs: libc::cpu_set_t,
}

impl OneCpu {
    /// Pins this process and process `server` to the first CPU this process may use.
    pub fn pin(server: u32) -> Result<Self, String> {
        let me = std::process::id();
        let mine = affinity(0)?;
        let theirs = affinity(server as libc::pid_t)?;
        let cpu = (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below CPU_SETSIZE.
            .find(|&cpu| unsafe { libc::CPU_ISSET(cpu, &mine) })
            .ok_or("this process may run on no CPU")?;
        // SAFETY: a zeroed cpu_set_t is a valid empty set; `cpu` is below CPU_SETSIZE.
        let one = unsafe {
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut one);
            one
        };
        pin_process(me, &one)?;
        pin_process(server, &one)?;
        Ok(Self {
            server,
            mine,
            theirs,
        })
    }
}

impl Drop for OneCpu {
    fn drop(&mut self) {
        let _ = pin_process(std::process::id(), &self.mine);
        let _ = pin_process(self.server, &self.theirs);
    }
}
