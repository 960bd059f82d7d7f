//! `/phone`: the upload page's address as a QR code, full screen on the
//! TV, for a phone on the sofa. Drawn on the server as SVG, so it needs no
//! script (Chromium 38 shows it as it is).

use askama::Template;
use qrcode::render::svg;
use qrcode::QrCode;
use warp::Reply;

use super::reply::ASSET_VERSION;
use crate::error::Error;

#[derive(Template)]
#[template(path = "phone.html")]
struct PhonePage {
    version: &'static str,
    url: String,
    /// The QR code, an `<svg>` element.
    qr: String,
}

/// The QR code of `text` as an inline `<svg>`, black on white with its
/// quiet zone, at least `size` pixels square.
pub fn qr_svg(text: &str, size: u32) -> Result<String, Error> {
    let code =
        QrCode::new(text.as_bytes()).map_err(|e| Error::Internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(size, size)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // Inline in HTML: no XML declaration.
    Ok(match svg.find("<svg") {
        Some(at) => svg[at..].to_string(),
        None => svg,
    })
}

pub async fn page(host: Option<String>) -> Result<warp::reply::Response, warp::Rejection> {
    let url = crate::lan::upload_url_now(host.as_deref()).await;
    let html = PhonePage {
        version: ASSET_VERSION,
        qr: qr_svg(&url, 560)?,
        url,
    }
    .render()
    .map_err(|e| warp::reject::custom(Error::Internal(format!("template: {e}"))))?;
    Ok(warp::reply::html(html).into_response())
}
