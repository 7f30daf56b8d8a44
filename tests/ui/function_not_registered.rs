// The struct names a function the library does not register: the closest is suggested.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_bank.lua", function = "transfr", returns = i64, standalone_only)]
struct Transfer<'a> {
    #[key]
    from: &'a str,
    #[key]
    to: &'a str,
    #[arg]
    amount: i64,
}

fn main() {}
