// The status page while an application is in processing: asks the server again every few seconds,
// updates the applications in place and announces a decision in the polite live region. The
// "check again" button asks at once (without JavaScript it reloads the page). Nothing else moves:
// focus stays where the citizen left it, and the asking stops once every application is decided.
(function () {
  "use strict";
  var applications = document.getElementById("applications");
  var announcement = document.getElementById("status-announcement");
  var form = document.getElementById("check-again");
  if (!applications || !announcement) {
    return;
  }
  var seconds = Number(applications.getAttribute("data-poll-seconds")) || 0;
  var timer = null;
  var asking = false;
  // The citizen pressed "check again" while a scheduled ask was on its way: its answer is theirs.
  var askedMeanwhile = false;

  function phases(root) {
    var found = {};
    root.querySelectorAll("section.application").forEach(function (section) {
      found[section.id] = section.getAttribute("data-in-progress") === "true";
    });
    return found;
  }

  function announce(text) {
    // A change of the live region's text is what assistive technology reads out.
    announcement.textContent = "";
    window.setTimeout(function () { announcement.textContent = text; }, 50);
  }

  function update(html, asked) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("applications");
    if (!fresh) {
      return false;
    }
    var before = phases(applications);
    var decided = [];
    fresh.querySelectorAll("section.application").forEach(function (section) {
      if (before[section.id] && section.getAttribute("data-in-progress") !== "true") {
        var title = section.querySelector(".status-title");
        decided.push(title ? title.textContent.trim() : "");
      }
    });
    applications.innerHTML = fresh.innerHTML;
    var waiting = Object.values(phases(applications)).some(Boolean);
    if (decided.length) {
      announce(decided.map(function (title) {
        return applications.getAttribute("data-announce").replace("{title}", title);
      }).join(" "));
    } else if (asked && waiting) {
      announce(applications.getAttribute("data-still"));
    }
    if (!waiting && form) {
      // Nothing left to ask about. Focus on the button would be lost with it: it goes to the decision.
      var focused = form.contains(document.activeElement);
      form.hidden = true;
      form.style.display = "none";
      var title = applications.querySelector(".status-title");
      if (focused && title) {
        title.setAttribute("tabindex", "-1");
        title.focus();
      }
    }
    return waiting;
  }

  function ask(asked) {
    if (asking) {
      askedMeanwhile = askedMeanwhile || asked;
      return;
    }
    asking = true;
    askedMeanwhile = false;
    window.clearTimeout(timer);
    fetch(window.location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) { return update(html, asked || askedMeanwhile); }, function () { return true; })
      .then(function (waiting) {
        asking = false;
        if (waiting && seconds > 0) {
          timer = window.setTimeout(function () { ask(false); }, seconds * 1000);
        }
      });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ask(true);
    });
  }
  if (seconds > 0) {
    timer = window.setTimeout(function () { ask(false); }, seconds * 1000);
  }
})();
