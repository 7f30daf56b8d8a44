// FUNCTION LOAD refuses a library that registers one name twice.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_registered_twice.lua", function = "incr", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
