#include "services/appraisal/certificate_testing.h"

#include <expat.h>
#include <zbar.h>

#include <array>
#include <map>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace market::appraisal::testing {
namespace {

constexpr int kScale = 4;   // pixels per module
constexpr int kMargin = 8;  // extra white modules around the drawing

using Parser = std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)>;

absl::Status Parse(XML_Parser p, absl::string_view xml) {
  if (XML_Parse(p, xml.data(), static_cast<int>(xml.size()), XML_TRUE) == XML_STATUS_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat(XML_ErrorString(XML_GetErrorCode(p)),
                                                   " at line ", XML_GetCurrentLineNumber(p)));
  }
  return absl::OkStatus();
}

// The QR drawing as parsed: the viewBox size and the dark rectangles.
struct QrDrawing {
  int size = 0;
  bool in_modules = false;
  std::vector<std::array<int, 4>> rects;  // x, y, width, height in modules
  bool bad = false;
};

void OnStart(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* d = static_cast<QrDrawing*>(data);
  std::map<std::string, std::string> a;
  for (int i = 0; attrs[i] != nullptr; i += 2) a[attrs[i]] = attrs[i + 1];
  std::string element = name;
  if (element == "svg" && a["id"] == "qr") {
    std::vector<std::string> box = absl::StrSplit(a["viewBox"], ' ');
    if (box.size() != 4 || !absl::SimpleAtoi(box[2], &d->size)) d->bad = true;
  } else if (element == "g" && a["id"] == "qr-modules") {
    d->in_modules = true;
  } else if (element == "rect" && d->in_modules) {
    std::array<int, 4> r{};
    const char* keys[] = {"x", "y", "width", "height"};
    for (int i = 0; i < 4; ++i) {
      if (!absl::SimpleAtoi(a[keys[i]], &r[i])) d->bad = true;
    }
    d->rects.push_back(r);
  }
}

void OnEnd(void* data, const XML_Char* name) {
  if (std::string(name) == "g") static_cast<QrDrawing*>(data)->in_modules = false;
}

// Decodes a Y800 image with zbar.
std::vector<std::string> Scan(int width, int height, const std::vector<unsigned char>& pixels) {
  zbar::zbar_image_scanner_t* scanner = zbar::zbar_image_scanner_create();
  zbar::zbar_image_scanner_set_config(scanner, zbar::ZBAR_NONE, zbar::ZBAR_CFG_ENABLE, 0);
  zbar::zbar_image_scanner_set_config(scanner, zbar::ZBAR_QRCODE, zbar::ZBAR_CFG_ENABLE, 1);
  zbar::zbar_image_t* image = zbar::zbar_image_create();
  zbar::zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
  zbar::zbar_image_set_size(image, width, height);
  zbar::zbar_image_set_data(image, pixels.data(), pixels.size(), nullptr);
  std::vector<std::string> texts;
  if (zbar::zbar_scan_image(scanner, image) > 0) {
    for (const zbar::zbar_symbol_t* s = zbar::zbar_image_first_symbol(image); s != nullptr;
         s = zbar::zbar_symbol_next(s)) {
      texts.emplace_back(zbar::zbar_symbol_get_data(s), zbar::zbar_symbol_get_data_length(s));
    }
  }
  zbar::zbar_image_destroy(image);
  zbar::zbar_image_scanner_destroy(scanner);
  return texts;
}

// Draws `dark` modules (a size × size grid) into a white image and scans it.
template <typename IsDark>
std::vector<std::string> ScanGrid(int size, IsDark dark) {
  int n = (size + 2 * kMargin) * kScale;
  std::vector<unsigned char> pixels(static_cast<size_t>(n) * n, 255);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      if (!dark(x, y)) continue;
      for (int py = 0; py < kScale; ++py) {
        for (int px = 0; px < kScale; ++px) {
          pixels[static_cast<size_t>((y + kMargin) * kScale + py) * n + (x + kMargin) * kScale +
                 px] = 0;
        }
      }
    }
  }
  return Scan(n, n, pixels);
}

}  // namespace

absl::Status CheckWellFormedXml(absl::string_view xml) {
  Parser p(XML_ParserCreate("UTF-8"), XML_ParserFree);
  return Parse(p.get(), xml);
}

std::vector<std::string> DecodeQr(const QrMatrix& qr) {
  return ScanGrid(qr.width, [&](int x, int y) { return qr.At(x, y); });
}

absl::StatusOr<std::vector<std::string>> DecodeQrInDocument(absl::string_view document) {
  size_t start = document.find("<svg id=\"qr\"");
  if (start == absl::string_view::npos) return absl::NotFoundError("no <svg id=\"qr\">");
  size_t end = document.find("</svg>", start);
  if (end == absl::string_view::npos) return absl::InvalidArgumentError("unclosed QR <svg>");
  absl::string_view fragment = document.substr(start, end + 6 - start);
  QrDrawing drawing;
  Parser p(XML_ParserCreate("UTF-8"), XML_ParserFree);
  XML_SetUserData(p.get(), &drawing);
  XML_SetElementHandler(p.get(), OnStart, OnEnd);
  if (absl::Status s = Parse(p.get(), fragment); !s.ok()) return s;
  if (drawing.bad || drawing.size <= 0) {
    return absl::InvalidArgumentError("QR <svg> without a numeric viewBox or rects");
  }
  std::vector<bool> dark(static_cast<size_t>(drawing.size) * drawing.size, false);
  for (const auto& [x, y, w, h] : drawing.rects) {
    for (int yy = y; yy < y + h && yy < drawing.size; ++yy) {
      for (int xx = x; xx < x + w && xx < drawing.size; ++xx) {
        dark[static_cast<size_t>(yy) * drawing.size + xx] = true;
      }
    }
  }
  return ScanGrid(drawing.size,
                  [&](int x, int y) { return dark[static_cast<size_t>(y) * drawing.size + x]; });
}

}  // namespace market::appraisal::testing
