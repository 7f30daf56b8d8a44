// A script with no keys and no args is a unit struct.
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/unit_struct.lua", returns = String)]
struct Ping;

fn main() {
    assert_eq!(Ping::KEY_FIELDS, &[] as &[&str]);
    assert_eq!(Ping::ARG_FIELDS, &[] as &[&str]);
    let _ = Ping.evalsha_command();
}
