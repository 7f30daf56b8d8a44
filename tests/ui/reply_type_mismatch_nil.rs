// The script replies nil for a missing counter, which an `i64` cannot hold.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/reply_type_mismatch_nil.lua", returns = i64)]
struct IncrementExisting<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    amount: i64,
}

fn main() {}
