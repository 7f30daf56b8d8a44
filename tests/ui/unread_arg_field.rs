// `ttl_seconds` is sent as ARGV[2], which the script never reads.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unread_arg_field.lua")]
struct AddWithTtl<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    amount: i64,
    #[arg]
    ttl_seconds: u32,
}

fn main() {}
