// What `#[derive(RedisFunction)]` writes for `Transfer`, written out by hand for the examples
// of the runtime's documentation (included with `include!`).

/// Moves `amount` from one account to another; returns the new balance of `to`.
struct Transfer<'a> {
    from: &'a str,
    to: &'a str,
    amount: i64,
}

const _: () = {
    const __REDIS_FUNCTION_LIBRARY: &str = include_str!("../lua/doc_bank.lua");
    const __REDIS_FUNCTION_SOURCE_MAP: &[::redis_script::SourceSegment] = &[];
    ::redis_script::__private::inventory::submit! {
        ::redis_script::RegisteredLibrary {
            name: "doc_bank",
            path: "lua/doc_bank.lua",
            source: __REDIS_FUNCTION_LIBRARY,
            source_map: __REDIS_FUNCTION_SOURCE_MAP,
        }
    }
    impl<'a> ::redis_script::Function for Transfer<'a> {
        type Output = i64;
        const NAME: &'static str = "Transfer";
        const LIBRARY: &'static str = "doc_bank";
        const FUNCTION: &'static str = "doc_transfer";
        const PATH: &'static str = "lua/doc_bank.lua";
        const SOURCE: &'static str = __REDIS_FUNCTION_LIBRARY;
        const KEY_FIELDS: &'static [&'static str] = &["from", "to"];
        const ARG_FIELDS: &'static [&'static str] = &["amount"];
        const KEY_TEMPLATES: &'static [Option<&'static str>] = &[None, None];
        const STANDALONE_ONLY: bool = false;
        const SLOT_GUARD: bool = true;
        const FLAGS: ::redis_script::ShebangFlags = ::redis_script::ShebangFlags {
            no_writes: false,
            allow_oom: false,
            allow_stale: false,
            no_cluster: false,
            allow_cross_slot_keys: false,
        };
        fn write_keys_and_args(&self, command: &mut ::redis_script::__private::Cmd) {
            command.arg("2");
            command.arg(&self.from);
            command.arg(&self.to);
            command.arg(&self.amount);
        }
    }
    impl<'a> Transfer<'a> {
        #[allow(dead_code)]
        pub fn invoke<C: ::redis_script::redis::ConnectionLike + ?Sized>(
            &self,
            connection: &mut C,
        ) -> Result<i64, ::redis_script::Error> {
            <Self as ::redis_script::Function>::invoke(self, connection)
        }
        #[allow(dead_code)]
        pub fn invoke_async<'c, C: ::redis_script::redis::aio::ConnectionLike + Send>(
            &self,
            connection: &'c mut C,
        ) -> impl ::core::future::Future<Output = Result<i64, ::redis_script::Error>>
               + Send
               + use<'c, 'a, C> {
            ::redis_script::__private::invoke_function_async::<Self, C>(self, connection)
        }
    }
};
