//! The offline basemap: Mapbox vector tiles of the loaded roads and POIs, made in PostGIS by
//! `geo.tile(z, x, y)` (`sql/geo/tile.sql`, with `geo.road_min_zoom`).

use sqlx::PgPool;

/// The deepest zoom a tile is made for.
pub const MAX_ZOOM: u32 = 22;

/// A tile's address: zoom, column and row as `ST_TileEnvelope` numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    pub z: u32,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    /// The tile, if it exists: `z` at most [`MAX_ZOOM`], `x` and `y` below `2^z`.
    pub fn new(z: u32, x: u32, y: u32) -> Option<Self> {
        (z <= MAX_ZOOM && x < (1u32 << z) && y < (1u32 << z)).then_some(Self { z, x, y })
    }
}

/// The tile's bytes (empty where nothing is loaded).
pub async fn tile(pool: &PgPool, id: TileId) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar("SELECT geo.tile($1, $2, $3)")
        .bind(id.z as i32)
        .bind(id.x as i32)
        .bind(id.y as i32)
        .fetch_one(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tiles_that_exist_have_an_id() {
        assert!(TileId::new(0, 0, 0).is_some());
        assert!(TileId::new(0, 1, 0).is_none());
        assert!(TileId::new(14, 8_700, 5_980).is_some());
        assert!(TileId::new(14, 16_384, 0).is_none());
        assert!(TileId::new(22, (1 << 22) - 1, (1 << 22) - 1).is_some());
        assert!(TileId::new(23, 0, 0).is_none());
    }
}
