#include "engine/report.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace keel;
using nlohmann::json;

namespace {

ResourceReport Res(const std::string& type, const std::string& title, Status status, char symbol,
                   double duration = 0.001) {
  ResourceReport r;
  r.id = type + "[" + title + "]";
  r.type = type;
  r.title = title;
  r.status = status;
  r.symbol = symbol;
  r.duration_s = duration;
  return r;
}

Report Sample() {
  Report rep;
  rep.keel_version = "0.1.0";
  rep.source_path = "site.yaml";
  rep.started_at = "2026-11-29T10:00:00Z";
  rep.duration_s = 0.0123;
  ResourceReport hosts = Res("file", "/etc/hosts", Status::kChanged, '~', 0.0004);
  hosts.changes.push_back({"content", Value("{sha256}aa"), Value("{sha256}bb"), "--- x\n"});
  hosts.changes.push_back({"mode", Value("0644"), Value("0600"), ""});
  hosts.diff = "--- /etc/hosts\n+++ /etc/hosts\n@@ -1 +1 @@\n-old\n+new\n";
  rep.resources.push_back(hosts);
  ResourceReport motd = Res("file", "/etc/motd", Status::kChanged, '+');
  motd.changes.push_back({"ensure", std::nullopt, Value("file"), ""});
  rep.resources.push_back(motd);
  rep.resources.push_back(Res("package", "OpenIPMI", Status::kUnchanged, ' '));
  ResourceReport ex = Res("exec", "build", Status::kFailed, '!');
  ex.error = "command exited with status 2";
  ex.output = "step 1\nstep 2\nboom\n";
  rep.resources.push_back(ex);
  ResourceReport svc = Res("service", "ipmi", Status::kSkipped, '?');
  svc.error = "skipped: requires exec[build] which failed";
  rep.resources.push_back(svc);
  ResourceReport old = Res("file", "/etc/old", Status::kChanged, '-');
  old.changes.push_back({"ensure", Value("file"), Value("absent"), ""});
  rep.resources.push_back(old);
  ResourceReport mod = Res("modprobe", "ipmi_si", Status::kChanged, '~');
  mod.changes.push_back(
      {"options", Value(Map{{"type", "kcs"}}), Value(Map{{"type", "bt"}, {"n", 2}}), ""});
  mod.refreshed = true;
  mod.message = "refreshed";
  rep.resources.push_back(mod);
  rep.warnings = {"options for built-in module ipmi_si do nothing"};
  return rep;
}

std::string Text(const Report& rep, TextOptions o = {}) {
  std::ostringstream out;
  RenderText(rep, o, out);
  return out.str();
}

std::vector<std::string> Keys(const json& j) {
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  return keys;
}

}  // namespace

TEST_CASE("report: status names and counts") {
  CHECK(std::string(StatusName(Status::kUnchanged)) == "unchanged");
  CHECK(std::string(StatusName(Status::kChanged)) == "changed");
  CHECK(std::string(StatusName(Status::kFailed)) == "failed");
  CHECK(std::string(StatusName(Status::kSkipped)) == "skipped");
  Report rep = Sample();
  CHECK(rep.Count(Status::kChanged) == 4);
  CHECK(rep.Count(Status::kUnchanged) == 1);
  CHECK(rep.Count(Status::kFailed) == 1);
  CHECK(rep.Count(Status::kSkipped) == 1);
}

TEST_CASE("report: JSON has exactly the SPEC fields, in order") {
  Report rep = Sample();
  rep.git_url = "https://git.example/site.git";
  rep.commit = std::string(40, 'a');
  rep.reboot_required = true;
  std::string text = RenderJson(rep);
  CHECK(text.back() == '\n');
  json j = json::parse(text);
  // SPEC's fields plus two of keel's own: "errors" (failures of the run
  // itself) and "interrupted" (null, or the signal and never_ran).
  CHECK(Keys(j) == std::vector<std::string>{"duration_s", "errors", "interrupted", "keel_version",
                                            "noop", "reboot_required", "report_version",
                                            "resources", "root", "source", "started_at", "summary",
                                            "warnings"});
  // Field order in the text follows the SPEC example.
  std::vector<std::string> order = {"\"report_version\"", "\"keel_version\"", "\"noop\"",
                                    "\"root\"",           "\"source\"",       "\"started_at\"",
                                    "\"duration_s\"",     "\"summary\"",      "\"reboot_required\"",
                                    "\"resources\"",      "\"warnings\""};
  size_t at = 0;
  for (const auto& key : order) {
    CAPTURE(key);
    size_t p = text.find(key);
    REQUIRE(p != std::string::npos);
    CHECK(p >= at);
    at = p;
  }
  CHECK(j["report_version"] == 1);
  CHECK(j["keel_version"] == "0.1.0");
  CHECK(j["noop"] == false);
  CHECK(j["root"] == "/");
  CHECK(Keys(j["source"]) == std::vector<std::string>{"commit", "git_url", "path"});
  CHECK(j["source"]["path"] == "site.yaml");
  CHECK(j["source"]["git_url"] == "https://git.example/site.git");
  CHECK(j["source"]["commit"] == std::string(40, 'a'));
  CHECK(j["started_at"] == "2026-11-29T10:00:00Z");
  CHECK(j["duration_s"].get<double>() == doctest::Approx(0.0123));
  CHECK(Keys(j["summary"]) ==
        std::vector<std::string>{"changed", "failed", "skipped", "total", "unchanged"});
  CHECK(j["summary"]["total"] == 7);
  CHECK(j["summary"]["changed"] == 4);
  CHECK(j["summary"]["failed"] == 1);
  CHECK(j["summary"]["skipped"] == 1);
  CHECK(j["summary"]["unchanged"] == 1);
  CHECK(j["reboot_required"] == true);
  CHECK(j["warnings"] == json::array({"options for built-in module ipmi_si do nothing"}));

  REQUIRE(j["resources"].size() == 7);
  const json& hosts = j["resources"][0];
  CHECK(Keys(hosts) == std::vector<std::string>{"changes", "diff", "duration_s", "error", "id",
                                                "message", "output", "refreshed", "status", "title",
                                                "type"});
  CHECK(hosts["id"] == "file[/etc/hosts]");
  CHECK(hosts["type"] == "file");
  CHECK(hosts["title"] == "/etc/hosts");
  CHECK(hosts["status"] == "changed");
  REQUIRE(hosts["changes"].size() == 2);
  CHECK(Keys(hosts["changes"][0]) == std::vector<std::string>{"attribute", "from", "to"});
  CHECK(hosts["changes"][0]["attribute"] == "content");
  CHECK(hosts["changes"][0]["from"] == "{sha256}aa");
  CHECK(hosts["changes"][1]["to"] == "0600");
  CHECK(hosts["diff"] == "--- /etc/hosts\n+++ /etc/hosts\n@@ -1 +1 @@\n-old\n+new\n");
  CHECK(hosts["refreshed"] == false);
  CHECK(hosts["error"].is_null());
  CHECK(hosts["message"].is_null());
  CHECK(hosts["output"].is_null());
  CHECK(hosts["duration_s"].get<double>() == doctest::Approx(0.0004));

  const json& motd = j["resources"][1];
  CHECK(motd["changes"][0]["from"].is_null());
  CHECK(motd["changes"][0]["to"] == "file");
  CHECK(motd["diff"].is_null());
  CHECK(j["resources"][2]["status"] == "unchanged");
  CHECK(j["resources"][2]["changes"] == json::array());
  CHECK(j["resources"][3]["status"] == "failed");
  CHECK(j["resources"][3]["error"] == "command exited with status 2");
  CHECK(j["resources"][3]["output"] == "step 1\nstep 2\nboom\n");
  CHECK(j["resources"][4]["status"] == "skipped");
  const json& mod = j["resources"][6];
  CHECK(mod["changes"][0]["to"] == json({{"type", "bt"}, {"n", 2}}));
  CHECK(mod["refreshed"] == true);
  CHECK(mod["message"] == "refreshed");
}

TEST_CASE("report: JSON of an empty report and of bytes that are not UTF-8") {
  Report rep;
  json j = json::parse(RenderJson(rep));
  CHECK(j["source"]["git_url"].is_null());
  CHECK(j["source"]["commit"].is_null());
  CHECK(j["resources"] == json::array());
  CHECK(j["warnings"] == json::array());
  CHECK(j["summary"]["total"] == 0);

  ResourceReport r = Res("exec", "bin", Status::kChanged, '~');
  r.output = "ok \xff\xfe end";
  rep.resources.push_back(r);
  json k = json::parse(RenderJson(rep));
  CHECK(k["resources"][0]["output"].get<std::string>().find("end") != std::string::npos);
}

TEST_CASE("report: text output lines") {
  Report rep = Sample();
  CHECK(Text(rep) ==
        "~ file[/etc/hosts]\n"
        "+ file[/etc/motd]\n"
        "! exec[build]\n"
        "    command exited with status 2\n"
        "    | step 1\n"
        "    | step 2\n"
        "    | boom\n"
        "? service[ipmi]\n"
        "    skipped: requires exec[build] which failed\n"
        "- file[/etc/old]\n"
        "~ modprobe[ipmi_si]: refreshed\n"
        "warning: options for built-in module ipmi_si do nothing\n"
        "changed 4, failed 1, skipped 1, unchanged 1 (0.012 s)\n");
}

TEST_CASE("report: noop wording and diffs under their line") {
  Report rep = Sample();
  rep.noop = true;
  rep.resources.resize(3);
  rep.warnings.clear();
  CHECK(Text(rep, {.show_diffs = true}) ==
        "~ file[/etc/hosts] (would change)\n"
        "    mode: \"0644\" -> \"0600\"\n"
        "    --- /etc/hosts\n"
        "    +++ /etc/hosts\n"
        "    @@ -1 +1 @@\n"
        "    -old\n"
        "    +new\n"
        "+ file[/etc/motd] (would create)\n"
        "    ensure: absent -> \"file\"\n"
        "changed 2, failed 0, skipped 0, unchanged 1 (0.012 s)\n");
}

TEST_CASE("report: verbose shows unchanged resources with timings; quiet only failures") {
  Report rep = Sample();
  std::string v = Text(rep, {.verbosity = 1});
  CHECK(v.find("  package[OpenIPMI] (0.001 s)\n") != std::string::npos);
  CHECK(v.find(
            "~ file[/etc/hosts] (0.000 s)\n    mode: \"0644\" -> \"0600\"\n    --- /etc/hosts\n") !=
        std::string::npos);
  CHECK(v.find("~ modprobe[ipmi_si]: refreshed (0.001 s)\n    options: {\"type\": \"kcs\"} -> "
               "{\"type\": \"bt\", \"n\": 2}\n") != std::string::npos);
  CHECK(Text(rep, {.verbosity = -1}) ==
        "! exec[build]\n"
        "    command exited with status 2\n"
        "changed 4, failed 1, skipped 1, unchanged 1 (0.012 s)\n");
}

TEST_CASE("report: an unchanged resource that was refreshed gets a line") {
  Report rep;
  ResourceReport svc = Res("service", "sshd", Status::kUnchanged, ' ');
  svc.refreshed = true;
  rep.resources.push_back(svc);
  CHECK(Text(rep) ==
        "* service[sshd] (refreshed)\nchanged 0, failed 0, skipped 0, unchanged 1 (0.000 s)\n");
  rep.noop = true;
  rep.resources[0].message = "would refresh";
  CHECK(Text(rep) ==
        "* service[sshd]: would refresh\nchanged 0, failed 0, skipped 0, unchanged 1 (0.000 s)\n");
}

TEST_CASE("report: failed command output keeps the last 10 lines") {
  Report rep;
  ResourceReport ex = Res("exec", "x", Status::kFailed, '!');
  for (int i = 1; i <= 15; ++i) ex.output += "l" + std::to_string(i) + "\n";
  rep.resources.push_back(ex);
  std::string t = Text(rep);
  CHECK(t.find("    | l5\n") == std::string::npos);
  CHECK(t.find("    | l6\n    | l7\n") != std::string::npos);
  CHECK(t.find("    | l15\n") != std::string::npos);
}

TEST_CASE("report: summary line format") {
  Report rep;
  for (int i = 0; i < 41; ++i)
    rep.resources.push_back(Res("file", "/f" + std::to_string(i), Status::kUnchanged, ' '));
  for (int i = 0; i < 3; ++i)
    rep.resources.push_back(Res("file", "/c" + std::to_string(i), Status::kChanged, '~'));
  rep.duration_s = 0.01249;
  std::string t = Text(rep, {.verbosity = -1});
  CHECK(t == "changed 3, failed 0, skipped 0, unchanged 41 (0.012 s)\n");
  rep.duration_s = 12.3456;
  CHECK(Text(rep, {.verbosity = -1}) ==
        "changed 3, failed 0, skipped 0, unchanged 41 (12.346 s)\n");
}

TEST_CASE("report: colour") {
  Report rep = Sample();
  std::string c = Text(rep, {.color = true, .show_diffs = true});
  CHECK(c.find("\033[33m~\033[0m file[/etc/hosts]") != std::string::npos);
  CHECK(c.find("\033[32m+\033[0m file[/etc/motd]") != std::string::npos);
  CHECK(c.find("\033[31m!\033[0m exec[build]") != std::string::npos);
  CHECK(c.find("\033[31m-\033[0m file[/etc/old]") != std::string::npos);
  CHECK(c.find("    \033[32m+new\033[0m\n") != std::string::npos);
  CHECK(c.find("    \033[31m-old\033[0m\n") != std::string::npos);
  CHECK(c.find("\033[33mwarning:\033[0m") != std::string::npos);
  CHECK(Text(rep).find('\033') == std::string::npos);
}

TEST_CASE("report: exit codes") {
  struct Row {
    int changed, failed, skipped;
    int plain, detailed;
  };
  for (Row row : std::vector<Row>{{0, 0, 0, 0, 0},
                                  {2, 0, 0, 0, 2},
                                  {0, 1, 0, 1, 4},
                                  {3, 1, 0, 1, 6},
                                  {1, 1, 2, 1, 6},
                                  {0, 0, 1, 1, 4}}) {
    CAPTURE(row.changed);
    CAPTURE(row.failed);
    CAPTURE(row.skipped);
    Report rep;
    rep.resources.push_back(Res("file", "/u", Status::kUnchanged, ' '));
    for (int i = 0; i < row.changed; ++i)
      rep.resources.push_back(Res("file", "/c", Status::kChanged, '~'));
    for (int i = 0; i < row.failed; ++i)
      rep.resources.push_back(Res("exec", "f", Status::kFailed, '!'));
    for (int i = 0; i < row.skipped; ++i)
      rep.resources.push_back(Res("exec", "s", Status::kSkipped, '?'));
    CHECK(ExitCode(rep, false) == row.plain);
    CHECK(ExitCode(rep, true) == row.detailed);
    rep.noop = true;  // a plan: "changes pending" is the same code
    CHECK(ExitCode(rep, true) == row.detailed);
  }
}

TEST_CASE("report: keel_version defaults to the build's version") {
  Report rep;
  json j = json::parse(RenderJson(rep));
  CHECK(j["keel_version"] == KEEL_VERSION);
}

// RenderJson streams the report member by member; its text must be exactly
// the 2-space layout of the whole document (nlohmann's dump(2) of what it
// parses back), whatever is empty or present.
TEST_CASE("report: streamed JSON is the exact layout of the whole document") {
  auto same = [](const Report& rep) {
    const std::string text = RenderJson(rep);
    CHECK(text == nlohmann::ordered_json::parse(text).dump(2) + "\n");
  };
  same(Sample());
  Report empty;
  same(empty);  // no resources: "resources": []
  Report rep = Sample();
  rep.warnings = {"w1", "w \"2\"\n"};
  rep.errors = {"e1"};
  rep.interrupted = true;
  rep.interrupt_signal = 15;
  rep.never_ran = {"file[/a]", "exec[b]"};
  rep.resources[0].changes.push_back(
      {"options", Value(Map{{"a", 1}, {"b", List{}}}), Value(List{Value(Map{}), 2.5}), ""});
  rep.resources[1].output = "line\twith\x01 control\n";
  rep.resources[1].error = "boom \"quoted\"";
  rep.resources[1].message = "noop";
  rep.resources[1].refreshed = true;
  rep.resources[1].duration_s = 1e-7;
  same(rep);
  rep.interrupt_signal = 9;
  same(rep);
}
