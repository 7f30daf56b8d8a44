// A key template without `{}`: the field's own value would never be used.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/cluster_template_without_own_value.lua")]
struct Get {
    #[key("{{user:{user}}}:profile")]
    profile: String,
    user: u64,
}

fn main() {}
