//! Cost: exact money, dated price books, usage priced into monthly bill
//! lines, projections over a horizon (growth, NPV, break-even), migrations
//! with dual running, budgets, cases and a sensitivity table.
//!
//! Every amount a report shows is a sum of [`bill::LineItem`]s, each a
//! quantity times a unit price from a cited price book, rounded to the cent.

pub mod bill;
pub mod book;
pub mod commit;
pub mod cur;
pub mod meter;
pub mod money;
pub mod project;

pub use bill::{Adjustments, Estate, LineItem, Pricer, UsageLine, Window};
pub use book::{Commitment, Granularity, PriceBook, Sku, Tier, Unit};
pub use money::{Currency, Date, ExchangeRate, Money, Month};
