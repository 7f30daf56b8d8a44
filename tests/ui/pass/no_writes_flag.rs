// A `#!lua flags=no-writes` script.
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/no_writes_flag.lua", returns = Option<String>)]
struct Get<'a> {
    #[key]
    key: &'a str,
}

fn main() {
    assert!(Get::FLAGS.no_writes);
    assert!(!Get::FLAGS.allow_oom);
}
