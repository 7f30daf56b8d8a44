// A write in a function registered with flags = {'no-writes'}.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_write_in_no_writes.lua", function = "peek", returns = i64)]
struct Peek<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
