//! Stock deduction without overselling: many buyers race for the last units of an item, and a
//! Lua script checks the stock, takes it and records the order in one atomic step.
//!
//! Runs against `REDIS_URL` when it is set, otherwise against a throwaway `redis-server` it
//! starts (and stops) itself:
//!
//! ```text
//! cargo run -p redis-script-examples --example stock_deduction
//! ```

use std::sync::{Arc, Barrier};
use std::thread;

use redis::Commands;
use redis_script::RedisScript;
use throwaway_redis::RedisServer;

/// Takes `quantity` units of `sku` for `order_id`, or nothing: see `lua/deduct_stock.lua`.
///
/// Both keys carry the hash tag `{sku:<sku>}`, so the derive proves at compile time that they
/// share a Redis Cluster slot: the same struct works on a cluster.
#[derive(RedisScript)]
#[redis_script(path = "lua/deduct_stock.lua", returns = i64)]
struct DeductStock<'a> {
    #[key("{{sku:{}}}:stock")]
    sku: u32, // KEYS[1] = "{sku:<sku>}:stock"
    #[key("{{sku:{sku}}}:order:{}")]
    order_id: &'a str, // KEYS[2] = "{sku:<sku>}:order:<order_id>"
    #[arg]
    quantity: u32, // ARGV[1]
}

const OUT_OF_STOCK: i64 = -1;
const DUPLICATE_ORDER: i64 = -2;
const SKU: u32 = 1001;
const STOCK_KEY: &str = "{sku:1001}:stock";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the throwaway server alive until the end of main; it stops when dropped.
    let (client, _server) = match std::env::var("REDIS_URL") {
        Ok(url) => (redis::Client::open(url)?, None),
        Err(_) => {
            let server = RedisServer::start()?;
            println!("started a throwaway redis-server on {}", server.url());
            (server.client(), Some(server))
        }
    };

    let mut connection = client.get_connection()?;
    let order_keys: Vec<String> = (1..=8)
        .map(|buyer| format!("{{sku:{SKU}}}:order:order-{buyer}"))
        .collect();
    let _: () = connection.del(STOCK_KEY)?;
    let _: () = connection.del(&order_keys)?;
    let _: () = connection.set(STOCK_KEY, 3)?;
    println!("stock of sku 1001: 3 units; 8 buyers want 1 unit each, at once");

    let start = Arc::new(Barrier::new(8));
    let buyers: Vec<_> = (1..=8)
        .map(|buyer| {
            let client = client.clone();
            let start = Arc::clone(&start);
            thread::spawn(move || -> Result<(u32, i64), redis_script::Error> {
                let mut connection = client.get_connection()?;
                let order_id = format!("order-{buyer}");
                start.wait();
                let left = DeductStock {
                    sku: SKU,
                    order_id: &order_id,
                    quantity: 1,
                }
                .invoke(&mut connection)?;
                Ok((buyer, left))
            })
        })
        .collect();

    let mut sold = 0;
    for buyer in buyers {
        let (buyer, left) = buyer.join().map_err(|_| "a buyer thread panicked")??;
        if left == OUT_OF_STOCK {
            println!("  buyer {buyer}: sold out");
        } else {
            sold += 1;
            println!("  buyer {buyer}: got one, {left} left");
        }
    }

    let retry = DeductStock {
        sku: SKU,
        order_id: "order-1",
        quantity: 1,
    }
    .invoke(&mut connection)?;
    let retry = match retry {
        DUPLICATE_ORDER => "refused as a duplicate".to_owned(),
        OUT_OF_STOCK => "refused: sold out".to_owned(),
        left => format!("took stock again ({left} left)"),
    };
    println!("buyer 1 retries the same order: {retry}");

    let stock: i64 = connection.get(STOCK_KEY)?;
    let orders: i64 = connection.exists(&order_keys)?;
    println!("sold {sold}, stock now {stock}, orders recorded {orders}: nothing oversold");
    if sold != 3 || stock != 0 || orders != 3 {
        return Err("stock accounting is off".into());
    }
    Ok(())
}
