// Functions receive their keys as a parameter: the KEYS global does not exist there.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_keys_global.lua", function = "incr", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
