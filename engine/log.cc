// spdlog adapter (engine/log.h). One logger, pattern "%v": the "keel: "
// prefix is added here so that lines carrying their own place are printed
// as they are, and the stderr text stays what the CLI tests pin.
#include "engine/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace keel::log {
namespace {

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l =
        std::make_shared<spdlog::logger>("keel", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::warn);
    l->flush_on(spdlog::level::trace);  // stderr is unbuffered: keep the order of lines
    return l;
  }();
  return *logger;
}

void Log(spdlog::level::level_enum level, std::string_view prefix, std::string_view message) {
  spdlog::logger& l = Logger();
  if (!l.should_log(level)) return;
  l.log(level, "{}{}", prefix, message);
}

}  // namespace

void SetupLogging(int verbose, bool quiet) {
  Logger().set_level(quiet         ? spdlog::level::err
                     : verbose > 1 ? spdlog::level::debug
                     : verbose > 0 ? spdlog::level::info
                                   : spdlog::level::warn);
}

void Error(std::string_view message) { Log(spdlog::level::err, "keel: ", message); }
void Warn(std::string_view message) { Log(spdlog::level::warn, "keel: ", message); }
void Info(std::string_view message) { Log(spdlog::level::info, "keel: ", message); }
void Debug(std::string_view message) { Log(spdlog::level::debug, "keel: ", message); }
void ErrorLine(std::string_view line) { Log(spdlog::level::err, "", line); }
void WarningLine(std::string_view message) { Log(spdlog::level::warn, "warning: ", message); }

void Progress(std::string_view text) {
  if (!Logger().should_log(spdlog::level::warn)) return;
  // A partial line that the next one overwrites: not a log record.
  std::fprintf(stderr, "\r\033[K%.*s", static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

}  // namespace keel::log
