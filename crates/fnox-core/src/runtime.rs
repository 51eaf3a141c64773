//! The library's own async runtime, so that callers need none: blocking
//! calls run futures on it (from another thread when the caller is already
//! inside a runtime, so no runtime is ever nested), and async calls are
//! spawned on it and awaited from whatever executor the caller uses. Every
//! provider client (AWS SDK, HTTP) lives on this one runtime.

use std::{
    future::Future,
    sync::{Arc, OnceLock},
};

use tokio::runtime::{Handle, Runtime};

use crate::error::Error;

/// Which runtime [`crate::Fnox`] starts (when it first needs one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RuntimeFlavor {
    /// Worker threads of its own, which keep driving provider clients
    /// (connection pools, batching) between calls: for a program that
    /// makes calls over time, or calls the async API.
    #[default]
    MultiThread,
    /// No thread of its own: each blocking call runs the runtime on the
    /// calling thread until its future is done (the async API runs it on a
    /// thread started for the call). Cheaper to start, for a program that
    /// makes its provider calls in one blocking call and then ends (the
    /// CLI's `get`, `exec`, `export`); between calls nothing is driven, so
    /// a pooled connection may be found closed by the next call.
    CurrentThread,
}

/// A lazily started runtime.
#[derive(Debug, Default)]
pub(crate) struct Executor {
    runtime: OnceLock<Arc<Runtime>>,
    /// A current-thread runtime without the IO and timer drivers, for the
    /// calls of [`RuntimeFlavor::CurrentThread`] that no key service takes
    /// part in (`local`, `age`): it starts without an epoll instance, a
    /// signal pipe or a timer wheel.
    plain: OnceLock<Arc<Runtime>>,
    flavor: RuntimeFlavor,
}

impl Executor {
    /// An executor that starts a runtime of `flavor`.
    pub(crate) fn new(flavor: RuntimeFlavor) -> Self {
        Self { runtime: OnceLock::new(), plain: OnceLock::new(), flavor }
    }

    /// The runtime for a call: without drivers when `drivers` is false and
    /// this executor runs calls on the calling thread.
    fn runtime_for(&self, drivers: bool) -> Result<&Arc<Runtime>, Error> {
        if drivers || self.flavor != RuntimeFlavor::CurrentThread {
            return self.runtime();
        }
        if let Some(rt) = self.plain.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_current_thread().build().map_err(Error::Runtime)?;
        Ok(self.plain.get_or_init(|| Arc::new(rt)))
    }

    fn runtime(&self) -> Result<&Arc<Runtime>, Error> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt);
        }
        let rt = match self.flavor {
            RuntimeFlavor::MultiThread => {
                let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .thread_name("fnox-core")
                    .enable_all()
                    .build()
            }
            RuntimeFlavor::CurrentThread => {
                tokio::runtime::Builder::new_current_thread().enable_all().build()
            }
        };
        let rt = Arc::new(rt.map_err(Error::Runtime)?);
        // Another thread may have won the race: theirs is used, ours dropped
        // (outside any runtime, so dropping it is fine).
        Ok(self.runtime.get_or_init(|| rt))
    }

    /// Runs `fut` to completion and returns its output, blocking the
    /// calling thread.
    pub(crate) fn block_on<F>(&self, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.block_on_with(true, fut)
    }

    /// [`Executor::block_on`] for a future that needs the IO and timer
    /// drivers (sockets, sleeps) only when `drivers`: one that would use
    /// them without panics.
    pub(crate) fn block_on_with<F>(&self, drivers: bool, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send,
        F::Output: Send,
    {
        let rt = self.runtime_for(drivers)?;
        if Handle::try_current().is_err() {
            return Ok(rt.block_on(fut));
        }
        // Inside a runtime, `block_on` on this thread would panic: run it
        // from a thread of our own and wait for it.
        std::thread::scope(|scope| match scope.spawn(|| rt.block_on(fut)).join() {
            Ok(out) => Ok(out),
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }

    /// Runs `fut` on the library's runtime and awaits its output from any
    /// executor.
    pub(crate) async fn run<F>(&self, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let rt = self.runtime()?;
        if self.flavor == RuntimeFlavor::CurrentThread {
            // Nothing drives a task spawned on it: a thread of the call's
            // own runs it, and the caller's executor awaits the answer.
            let (tx, rx) = tokio::sync::oneshot::channel();
            let rt = Arc::clone(rt);
            std::thread::spawn(move || {
                let out =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(fut)));
                let _ = tx.send(out);
            });
            return match rx.await {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(_) => unreachable!("the thread sends before it ends"),
            };
        }
        match rt.spawn(fut).await {
            Ok(out) => Ok(out),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Dropping a runtime inside an async context panics; shutting it
        // down in the background never does.
        // (A current-thread runtime lent to a call's thread is shut down by
        // the last owner.)
        for slot in [&mut self.runtime, &mut self.plain] {
            if let Some(rt) = slot.take().and_then(|rt| Arc::try_unwrap(rt).ok()) {
                rt.shutdown_background();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_from_plain_code() {
        let ex = Executor::default();
        assert_eq!(ex.block_on(async { 41 + 1 }).unwrap(), 42);
    }

    #[test]
    fn a_call_without_drivers_still_has_the_blocking_pool() {
        let ex = Executor::new(RuntimeFlavor::CurrentThread);
        let out =
            ex.block_on_with(false, async { tokio::task::spawn_blocking(|| 6 * 7).await.unwrap() });
        assert_eq!(out.unwrap(), 42);
        assert!(ex.runtime.get().is_none(), "the runtime with drivers was started");
        // A call that needs the drivers gets them.
        let slept = ex.block_on_with(true, async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            1
        });
        assert_eq!(slept.unwrap(), 1);
    }

    #[test]
    fn blocking_and_async_from_inside_another_runtime() {
        let outer = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let ex = Executor::default();
        outer.block_on(async {
            assert_eq!(ex.block_on(async { 1 }).unwrap(), 1);
            assert_eq!(ex.run(async { 2 }).await.unwrap(), 2);
        });
        // Dropped inside an async context: no panic.
        outer.block_on(async move { drop(ex) });
    }

    #[test]
    fn a_current_thread_runtime_serves_both_apis_and_starts_no_thread() {
        let ex = Executor::new(RuntimeFlavor::CurrentThread);
        let on = ex
            .block_on(async { tokio::spawn(async { std::thread::current().id() }).await.unwrap() })
            .unwrap();
        assert_eq!(on, std::thread::current().id(), "the task ran on the calling thread");
        let outer = tokio::runtime::Builder::new_current_thread().build().unwrap();
        outer.block_on(async {
            assert_eq!(ex.block_on(async { 1 }).unwrap(), 1);
            let timed = ex.run(async {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                2
            });
            assert_eq!(timed.await.unwrap(), 2);
        });
        outer.block_on(async move { drop(ex) });
    }
}
