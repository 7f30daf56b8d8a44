// #[redis_function] must name the function the struct calls.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_bank.lua", returns = i64)]
struct Transfer<'a> {
    #[key]
    from: &'a str,
}

fn main() {}
