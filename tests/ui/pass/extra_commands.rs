// Commands of a newer Redis than the command table's, named in `extra_commands`: the script
// compiles, and everything else in it is still checked.
#[derive(redis_script::RedisScript)]
#[redis_script(
    path = "ui/pass/lua/extra_commands.lua",
    returns = i64,
    extra_commands = ["HEXPIRE", "CLIENT|NO-TOUCH"]
)]
struct ExpireField<'a> {
    #[key]
    hash: &'a str,
    #[arg]
    field: &'a str,
    #[arg]
    seconds: u32,
}

fn main() {
    use redis_script::Script;
    let command = ExpireField {
        hash: "h",
        field: "f",
        seconds: 60,
    }
    .evalsha_command();
    assert_eq!(command.args_iter().count(), 6);
}
