// FUNCTION LOAD runs the top level of a library, where Redis cannot be called.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_call_outside_function.lua", function = "incr", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
