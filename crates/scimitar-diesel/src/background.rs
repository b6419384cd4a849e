//! Threads a store owns: they end, and are waited for, when the store is dropped.

use std::thread::{self, JoinHandle};

use crate::error::DieselError;

/// A thread that runs until its `signal` (the sending half of its channel) is
/// dropped. Dropping this drops the signal and waits for the thread to end, so
/// a dropped store holds no connection to its database any more: another
/// program can take the file's locks at once.
pub(crate) struct OwnedThread<S> {
    signal: Option<S>,
    handle: Option<JoinHandle<()>>,
}

impl<S> OwnedThread<S> {
    /// Starts `body` on a thread called `name`; `signal` keeps it running.
    pub(crate) fn spawn(
        name: &str,
        signal: S,
        body: impl FnOnce() + Send + 'static,
    ) -> Result<OwnedThread<S>, DieselError> {
        let handle = thread::Builder::new()
            .name(name.to_owned())
            .spawn(body)
            .map_err(|e| DieselError::Worker(e.to_string()))?;
        Ok(OwnedThread {
            signal: Some(signal),
            handle: Some(handle),
        })
    }

    /// The signal, to talk to the thread through.
    pub(crate) fn signal(&self) -> &S {
        // Only `drop` takes it.
        self.signal
            .as_ref()
            .unwrap_or_else(|| unreachable!("the signal lives until drop"))
    }
}

impl<S> Drop for OwnedThread<S> {
    fn drop(&mut self) {
        drop(self.signal.take());
        if let Some(handle) = self.handle.take() {
            // Dropped by the thread itself (a closure it ran held the last
            // reference): it ends on its own once this returns.
            if handle.thread().id() != thread::current().id() {
                // A panic of the thread was already reported by it.
                drop(handle.join());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    use super::*;

    #[test]
    fn dropping_waits_for_the_thread_to_end() {
        let ended = Arc::new(AtomicBool::new(false));
        let (signal, wait) = mpsc::channel::<()>();
        let thread = {
            let ended = Arc::clone(&ended);
            OwnedThread::spawn("test", signal, move || {
                while wait.recv().is_ok() {}
                // Slow to end: the drop must still wait for it.
                thread::sleep(Duration::from_millis(50));
                ended.store(true, Ordering::SeqCst);
            })
            .unwrap()
        };
        thread.signal().send(()).unwrap();
        drop(thread);
        assert!(ended.load(Ordering::SeqCst));
    }

    #[test]
    fn a_thread_may_drop_its_own_owner() {
        let (give, given) = mpsc::channel::<OwnedThread<()>>();
        let (done, finished) = mpsc::channel();
        let owner = OwnedThread::spawn("test", (), move || {
            // Dropped here, on the thread itself: it must not wait for itself.
            drop(given.recv());
            done.send(()).ok();
        })
        .unwrap();
        give.send(owner).map_err(drop).unwrap();
        assert!(finished.recv_timeout(Duration::from_secs(10)).is_ok());
    }
}
