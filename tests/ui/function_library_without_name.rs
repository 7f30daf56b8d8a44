// A function library's first line must name it: `#!lua name=<library>`.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_library_without_name.lua", function = "incr", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
