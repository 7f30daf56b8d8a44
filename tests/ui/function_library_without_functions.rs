// A library that registers nothing: FUNCTION LOAD refuses it.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_library_without_functions.lua", function = "incr", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
