// The callback reads keys[2] through its own parameter name, but the struct declares one key.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_bank.lua", function = "transfer", returns = i64, standalone_only)]
struct Withdraw<'a> {
    #[key]
    from: &'a str,
    #[arg]
    amount: i64,
}

fn main() {}
