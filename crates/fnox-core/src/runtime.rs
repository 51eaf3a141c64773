//! The library's own async runtime, so that callers need none: blocking
//! calls run futures on it (from another thread when the caller is already
//! inside a runtime, so no runtime is ever nested), and async calls are
//! spawned on it and awaited from whatever executor the caller uses. Every
//! provider client (AWS SDK, HTTP) lives on this one runtime.

use std::{future::Future, sync::OnceLock};

use tokio::runtime::{Handle, Runtime};

use crate::error::Error;

/// A lazily started multi-threaded runtime.
#[derive(Debug, Default)]
pub(crate) struct Executor {
    runtime: OnceLock<Runtime>,
}

impl Executor {
    fn runtime(&self) -> Result<&Runtime, Error> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt);
        }
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("fnox-core")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
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
        let rt = self.runtime()?;
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
        match self.runtime()?.spawn(fut).await {
            Ok(out) => Ok(out),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Dropping a runtime inside an async context panics; shutting it
        // down in the background never does.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
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
}
