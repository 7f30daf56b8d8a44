// A key template without a hash tag: Redis hashes the whole key.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_template_without_hash_tag.lua")]
struct Transfer {
    #[key("{{bank:{bank}}}:account:{}")]
    from: String,
    #[key("bank:{bank}:account:{}")]
    to: String,
    bank: String,
}

fn main() {}
