// Hash tags that are different expressions: `{}` is each key's own value.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_hash_tags_differ.lua")]
struct Transfer {
    #[key("{{account:{}}}")]
    from: String,
    #[key("{{account:{}}}")]
    to: String,
}

fn main() {}
