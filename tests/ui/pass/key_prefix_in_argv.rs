// A key prefix carried in ARGV with the keys' hash tag: keys the script builds on it share
// their slot, and the slot guard checks the prefix with the keys.
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/enqueue.lua", returns = i64)]
struct Enqueue<'a> {
    queue: &'a str,
    #[key("{{q:{queue}}}:{}")]
    list: &'a str,
    #[arg("{{q:{queue}}}:{}")]
    prefix: &'a str,
    #[arg]
    id: &'a str,
}

fn main() {
    let command = Enqueue { queue: "mail", list: "wait", prefix: "job:", id: "7" }.evalsha_command();
    let args: Vec<Vec<u8>> = command
        .args_iter()
        .map(|arg| match arg {
            redis_script::redis::Arg::Simple(bytes) => bytes.to_vec(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(args[3], b"{q:mail}:wait");
    assert_eq!(args[4], b"{q:mail}:job:");
    assert_eq!(args[5], b"7");
}
