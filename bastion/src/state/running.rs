//! How many session tasks are running, so a clean shutdown can end them and wait until each
//! has sealed its recording and written its `session_end`, before the final checkpoint; and
//! the shutdown signal itself, for tasks that are not live sessions (`ssh -L` forwards) and
//! must end — and audit — on their own.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// A count of running session tasks.
#[derive(Default)]
pub struct Running {
    count: AtomicUsize,
    idle: Notify,
    stopping: AtomicBool,
    stop: Notify,
}

/// Held by a running session task; counts it out when dropped (however the task ends).
pub struct RunningGuard<'a>(&'a Running);

impl Running {
    /// Counts a session task in until the guard is dropped.
    pub fn enter(&self) -> RunningGuard<'_> {
        self.count.fetch_add(1, Ordering::SeqCst);
        RunningGuard(self)
    }

    /// Announces the shutdown to every task waiting in [`Running::stopping`].
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_waiters();
    }

    /// Resolves once the shutdown has begun.
    pub async fn stopping(&self) {
        loop {
            let stop = self.stop.notified();
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            stop.await;
        }
    }

    /// Resolves once no session task is running.
    pub async fn wait_idle(&self) {
        loop {
            let idle = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_the_last_guard() {
        let running = std::sync::Arc::new(Running::default());
        let guard = running.enter();
        let waiter = {
            let running = running.clone();
            tokio::spawn(async move { running.wait_idle().await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(guard);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("idle after the last guard")
            .unwrap();
    }

    #[tokio::test]
    async fn stopping_resolves_for_waiters_and_latecomers() {
        let running = std::sync::Arc::new(Running::default());
        let waiter = {
            let running = running.clone();
            tokio::spawn(async move { running.stopping().await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        running.stop();
        let wait = std::time::Duration::from_secs(5);
        tokio::time::timeout(wait, waiter).await.unwrap().unwrap();
        tokio::time::timeout(wait, running.stopping())
            .await
            .unwrap();
    }
}
