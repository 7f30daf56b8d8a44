//! Spans for the `tracing` feature. Without the feature every type here is empty and every
//! function does nothing and is inlined away: invoking a script costs nothing extra.
//!
//! With the feature, each [`Script::invoke`](crate::Script::invoke) /
//! [`invoke_async`](crate::Script::invoke_async) runs in an `INFO` span named
//! `redis_script.invoke` with the fields `script` (the struct's name), `sha1`, `keys` (the number
//! of keys) and `noscript_fallback` (`true` when the server answered `NOSCRIPT` and the script was
//! reloaded, or sent with `EVAL`, and run again). A [`Function`](crate::Function)'s `FCALL`
//! has the same span with `function` (the name `FCALL` calls) in place of `sha1`, alone and in
//! batches. Pipelines, transactions and cluster batches run in one span each,
//! `redis_script.batch`, with `kind`, `invocations` and `commands` (and for cluster batches
//! `nodes` and `retried`).
//!
//! Inside a [`ScriptPipeline`](crate::ScriptPipeline),
//! [`ScriptTransaction`](crate::ScriptTransaction) or cluster batch, each invocation has its
//! own `redis_script.invoke` span too, a child of the batch span, open from the send until the
//! replies are in (they share the round trips). Its `noscript_fallback` says whether the
//! source went to the server for it up front: in a plain pipeline `true` for an invocation sent
//! as `EVAL` because an ordinary command follows it (a reload after `NOSCRIPT` is not recorded
//! per invocation), always `false` in a cluster batch, and in a transaction `true` for the
//! invocation that a `SCRIPT LOAD` of its script precedes. The child spans are made only when a subscriber wants
//! `INFO` spans of this crate.

#[cfg(feature = "tracing")]
mod imp {
    use std::future::Future;

    use tracing::Instrument;

    #[derive(Clone)]
    pub(crate) struct Span(tracing::Span);

    pub(crate) struct Entered<'a>(#[allow(dead_code)] tracing::span::Entered<'a>);

    /// The open spans of a batch's invocations; dropping it closes them.
    pub(crate) struct Children(#[allow(dead_code)] Vec<tracing::Span>);

    impl Span {
        #[inline]
        pub(crate) fn invocation(
            script: &'static str,
            sha1: &'static str,
            command: &redis::Cmd,
        ) -> Self {
            let keys = super::key_count(command);
            Span(tracing::info_span!(
                "redis_script.invoke",
                script,
                sha1,
                keys,
                noscript_fallback = false,
            ))
        }

        /// The span of one `FCALL`: `function` (the name `FCALL` calls) instead of `sha1`.
        #[inline]
        pub(crate) fn function_call(
            function_struct: &'static str,
            function: &'static str,
            command: &redis::Cmd,
        ) -> Self {
            let keys = super::key_count(command);
            Span(tracing::info_span!(
                "redis_script.invoke",
                script = function_struct,
                function,
                keys,
                noscript_fallback = false,
            ))
        }

        #[inline]
        pub(crate) fn batch(kind: &'static str, invocations: usize, commands: usize) -> Self {
            Span(tracing::info_span!(
                "redis_script.batch",
                kind,
                invocations,
                commands,
                nodes = tracing::field::Empty,
                retried = tracing::field::Empty,
            ))
        }

        #[inline]
        pub(crate) fn record_fallback(&self) {
            self.0.record("noscript_fallback", true);
        }

        /// One `redis_script.invoke` span per `(script, command, fallback)`, children of this
        /// batch span.
        pub(crate) fn children<'a, C: std::borrow::Borrow<redis::Cmd>>(
            &self,
            invocations: impl Iterator<Item = (&'a crate::pipeline::ScriptInfo, C, bool)>,
        ) -> Children {
            if self.0.is_disabled() {
                return Children(Vec::new());
            }
            Children(
                invocations
                    .map(|(script, command, noscript_fallback)| {
                        let span = tracing::info_span!(
                            parent: &self.0,
                            "redis_script.invoke",
                            script = script.name,
                            sha1 = tracing::field::Empty,
                            function = tracing::field::Empty,
                            keys = super::key_count(command.borrow()),
                            noscript_fallback,
                        );
                        // A function has a name where a script has a SHA1.
                        match &script.function {
                            Some(function) => span.record("function", function.function),
                            None => span.record("sha1", script.sha1),
                        };
                        span
                    })
                    .collect(),
            )
        }

        #[inline]
        #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
        pub(crate) fn record_nodes(&self, nodes: usize, retried: usize) {
            self.0.record("nodes", nodes);
            self.0.record("retried", retried);
        }

        #[inline]
        pub(crate) fn entered_guard(&self) -> Entered<'_> {
            Entered(self.0.enter())
        }

        #[inline]
        pub(crate) fn instrument<F: Future>(
            &self,
            future: F,
        ) -> impl Future<Output = F::Output> + use<F> {
            future.instrument(self.0.clone())
        }
    }
}

#[cfg(not(feature = "tracing"))]
mod imp {
    use std::future::Future;
    use std::marker::PhantomData;

    #[derive(Clone)]
    pub(crate) struct Span;

    pub(crate) struct Entered<'a>(PhantomData<&'a ()>);

    pub(crate) struct Children;

    impl Span {
        #[inline(always)]
        pub(crate) fn invocation(
            _script: &'static str,
            _sha1: &'static str,
            _command: &redis::Cmd,
        ) -> Self {
            Span
        }

        #[inline(always)]
        pub(crate) fn function_call(
            _function_struct: &'static str,
            _function: &'static str,
            _command: &redis::Cmd,
        ) -> Self {
            Span
        }

        #[inline(always)]
        pub(crate) fn batch(_kind: &'static str, _invocations: usize, _commands: usize) -> Self {
            Span
        }

        #[inline(always)]
        pub(crate) fn record_fallback(&self) {}

        /// Never consumes the iterator, so building it costs nothing either.
        #[inline(always)]
        pub(crate) fn children<I>(&self, _invocations: I) -> Children {
            Children
        }

        #[inline(always)]
        #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
        pub(crate) fn record_nodes(&self, _nodes: usize, _retried: usize) {}

        #[inline(always)]
        pub(crate) fn entered_guard(&self) -> Entered<'_> {
            Entered(PhantomData)
        }

        #[inline(always)]
        pub(crate) fn instrument<F: Future>(&self, future: F) -> F {
            future
        }
    }
}

pub(crate) use imp::Span;

/// The `numkeys` of an `EVALSHA`/`EVAL` command (its third argument), for the span; 0 if absent.
#[cfg(feature = "tracing")]
fn key_count(command: &redis::Cmd) -> usize {
    match command.args_iter().nth(2) {
        Some(redis::Arg::Simple(bytes)) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}
