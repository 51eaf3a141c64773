//! Batching: splitting many values into requests the server takes, and
//! coalescing concurrent single calls into `batch_input` requests.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use zeroize::Zeroizing;

use async_trait::async_trait;

use super::{
    api::{Api, Binding, Item, Op},
    error::TransitError,
};
use crate::providers::error::ProviderError;

/// What a coalescer sends its batches to: the server's API, or a fake in
/// tests. Results come back in the order of `items`.
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    /// Sends `items` in one request.
    async fn send(
        &self,
        op: Op,
        binding: Binding,
        items: &[Item],
    ) -> Vec<Result<Zeroizing<String>, ProviderError>>;
}

#[async_trait]
impl Sender for Api {
    async fn send(
        &self,
        op: Op,
        binding: Binding,
        items: &[Item],
    ) -> Vec<Result<Zeroizing<String>, ProviderError>> {
        self.run(op, binding, items).await
    }
}

/// One batch request carries at most this many bytes of inputs; the
/// server's default `max_request_size` is 32 MiB.
pub const MAX_BATCH_BYTES: usize = 4 << 20;
/// One batch request carries at most this many items: OpenBao refuses a
/// JSON body with more than `max_request_json_strings` (default 1000)
/// strings, and each item has four (two keys, two values).
pub const MAX_BATCH_ITEMS: usize = 200;

/// Splits `items` into runs of at most [`MAX_BATCH_ITEMS`] items and
/// [`MAX_BATCH_BYTES`] of input (a larger single item goes alone).
pub fn chunks<T>(items: &[T], size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && (bytes + n > MAX_BATCH_BYTES || i - start == MAX_BATCH_ITEMS) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += n;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// A one-request-at-a-time queue per operation: calls that arrive while a
/// request is in flight go out together in the next `batch_input`. This
/// lets concurrent single calls (rotation re-wraps each value on its own
/// task) share requests without the caller knowing.
#[derive(Debug, Default)]
pub struct Coalescer {
    queues: Mutex<HashMap<(Op, Binding), Queue>>,
}

type Reply = tokio::sync::oneshot::Sender<Result<Zeroizing<String>, ProviderError>>;

#[derive(Debug, Default)]
struct Queue {
    pending: Vec<(Item, Reply)>,
    running: bool,
}

impl Coalescer {
    /// Queues `item` and waits for its result.
    pub async fn submit<S: Sender>(
        api: &Arc<S>,
        coalescer: &Arc<Coalescer>,
        op: Op,
        binding: Binding,
        item: Item,
    ) -> Result<Zeroizing<String>, ProviderError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let start = {
            let mut queues = coalescer.queues.lock().unwrap_or_else(|e| e.into_inner());
            let queue = queues.entry((op, binding)).or_default();
            queue.pending.push((item, tx));
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            let (api, coalescer) = (api.clone(), coalescer.clone());
            tokio::spawn(async move { coalescer.drain(api.as_ref(), op, binding).await });
        }
        rx.await.unwrap_or_else(|_| Err(TransitError::Dropped.into()))
    }

    /// Sends what is queued, batch after batch, until the queue is empty.
    async fn drain<S: Sender>(&self, api: &S, op: Op, binding: Binding) {
        let _reset = Reset { coalescer: self, key: (op, binding) };
        // Let the callers that are about to queue join the first batch:
        // wait while the queue still grows, for a few milliseconds at most
        // (one millisecond for a lone call). Later batches form while the
        // previous request is in flight.
        let mut seen = 0;
        for _ in 0..SETTLE_STEPS {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let queued = self.queued((op, binding));
            if queued == seen {
                break;
            }
            seen = queued;
        }
        loop {
            let batch = {
                let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                let queue = queues.entry((op, binding)).or_default();
                let n = chunks(&queue.pending, |(item, _)| item.input.len())
                    .first()
                    .map_or(0, |c| c.len());
                if n == 0 {
                    queue.running = false;
                    return;
                }
                queue.pending.drain(..n).collect::<Vec<_>>()
            };
            let (items, replies): (Vec<Item>, Vec<Reply>) = batch.into_iter().unzip();
            let results = api.send(op, binding, &items).await;
            let (asked, got) = (replies.len(), results.len());
            let mut results = results.into_iter();
            for reply in replies {
                // A short answer fails the calls it left out; none waits forever.
                let result =
                    results.next().unwrap_or(Err(ProviderError::ShortAnswer { asked, got }));
                let _ = reply.send(result);
            }
        }
    }
}

impl Coalescer {
    fn queued(&self, key: (Op, Binding)) -> usize {
        let queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues.get(&key).map_or(0, |q| q.pending.len())
    }
}

/// At most this many 1 ms waits for a first batch to fill.
const SETTLE_STEPS: usize = 8;

/// Clears the queue's `running` flag if a drain ends early (a panic), so
/// later calls start a new one; the waiting callers get an error.
struct Reset<'a> {
    coalescer: &'a Coalescer,
    key: (Op, Binding),
}

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        let mut queues = self.coalescer.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queue) = queues.get_mut(&self.key)
            && queue.running
        {
            queue.running = false;
            queue.pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Answers each item with its input reversed, after a short delay;
    /// records the size of every batch; drops the last result when `short`.
    #[derive(Default)]
    struct Fake {
        batches: Mutex<Vec<usize>>,
        short: bool,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl Sender for Fake {
        async fn send(
            &self,
            _op: Op,
            _binding: Binding,
            items: &[Item],
        ) -> Vec<Result<Zeroizing<String>, ProviderError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.batches.lock().unwrap().push(items.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut out: Vec<_> = items
                .iter()
                .map(|i| Ok(Zeroizing::new(i.input.chars().rev().collect::<String>())))
                .collect();
            if self.short {
                out.pop();
            }
            out
        }
    }

    fn item(i: usize) -> Item {
        Item { name: format!("S{i}"), input: Zeroizing::new(format!("in-{i}")) }
    }

    async fn submit_all(fake: &Arc<Fake>, range: std::ops::Range<usize>) -> Vec<String> {
        let coalescer = Arc::new(Coalescer::default());
        let calls = range.map(|i| {
            let (fake, coalescer) = (fake.clone(), coalescer.clone());
            tokio::spawn(async move {
                Coalescer::submit(&fake, &coalescer, Op::Rewrap, Binding::Context, item(i)).await
            })
        });
        let mut out = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            out.push(match call.await.unwrap() {
                Ok(v) => v.to_string(),
                Err(e) => format!("error: {e}"),
            });
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_one_request_and_get_their_own_answers() {
        let fake = Arc::new(Fake::default());
        let out = submit_all(&fake, 0..50).await;
        let expected: Vec<String> =
            (0..50).map(|i| format!("in-{i}").chars().rev().collect()).collect();
        assert_eq!(out, expected);
        assert_eq!(*fake.batches.lock().unwrap(), vec![50]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn more_than_a_batch_goes_out_in_batches_of_the_limit() {
        let fake = Arc::new(Fake::default());
        let out = submit_all(&fake, 0..450).await;
        assert_eq!(out.len(), 450);
        assert!(out.iter().all(|o| !o.starts_with("error")));
        let batches = fake.batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 450, "{batches:?}");
        assert!(batches.iter().all(|&n| n <= MAX_BATCH_ITEMS), "{batches:?}");
        assert_eq!(batches.len(), 3, "{batches:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_short_answer_fails_the_calls_it_left_out() {
        let fake = Arc::new(Fake { short: true, ..Fake::default() });
        let out = submit_all(&fake, 0..3).await;
        // However the calls were batched, each batch's last call failed and
        // every other call got its own answer; none waited forever.
        let batches = fake.batches.lock().unwrap().clone();
        let errors = out.iter().filter(|o| o.starts_with("error: the provider returned")).count();
        assert_eq!(errors, batches.len(), "{out:?} {batches:?}");
        for (i, o) in out.iter().enumerate() {
            let answer: String = format!("in-{i}").chars().rev().collect();
            assert!(*o == answer || o.starts_with("error: the provider returned"), "{o}");
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), batches.len());
    }

    #[test]
    fn chunks_split_by_count_and_size_only_when_needed() {
        let small = vec![10usize; 200];
        assert_eq!(chunks(&small, |n| *n).len(), 1);
        let many = vec![10usize; 401];
        let parts = chunks(&many, |n| *n);
        assert_eq!(parts.iter().map(|c| c.len()).collect::<Vec<_>>(), vec![200, 200, 1]);
        let big = vec![MAX_BATCH_BYTES / 2 + 1; 3];
        let parts = chunks(&big, |n| *n);
        assert_eq!(parts.iter().map(|c| c.len()).collect::<Vec<_>>(), vec![1, 1, 1]);
        let huge = vec![MAX_BATCH_BYTES * 2];
        assert_eq!(chunks(&huge, |n| *n).len(), 1);
        assert!(chunks::<usize>(&[], |n| *n).is_empty());
    }
}
