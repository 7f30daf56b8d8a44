// A templated variadic key renders each entry of a slice-like field; a `HashSet` is not one.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/variadic_key_template_not_a_list.lua")]
struct DeleteItems {
    #[key("{{cart}}:item:{}", variadic)]
    items: std::collections::HashSet<String>,
}

fn main() {}
