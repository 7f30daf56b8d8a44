// Commands of a server the command table does not cover (DELEX: Redis 8.4), named in
// `extra_commands`: the script compiles, and everything else in it is still checked.
#[derive(redis_script::RedisScript)]
#[redis_script(
    path = "ui/pass/lua/extra_commands.lua",
    returns = i64,
    extra_commands = ["DELEX", "CLIENT|NOHELLO"]
)]
struct DeleteIfEqual<'a> {
    #[key]
    key: &'a str,
    #[arg]
    expected: &'a str,
}

fn main() {
    use redis_script::Script;
    let command = DeleteIfEqual {
        key: "k",
        expected: "v",
    }
    .evalsha_command();
    assert_eq!(command.args_iter().count(), 5);
}
