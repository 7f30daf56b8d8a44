// The script replies an array, which a `String` cannot hold.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/reply_type_mismatch_array.lua", returns = String)]
struct GetWithTtl<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
