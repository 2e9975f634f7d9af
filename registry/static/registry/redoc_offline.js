/* ReDoc's bundle shows its vendor's logo from the vendor's CDN ("API docs by Redocly"). The
 * docs fetch nothing from the internet (and the Content-Security-Policy would refuse it): this
 * script, loaded before ReDoc, keeps images on other sites from being requested. */
"use strict";
(function () {
  function outside(value) {
    var url = String(value);
    return /^https?:\/\//.test(url) && url.indexOf(window.location.origin + "/") !== 0;
  }
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && outside(value)) {
      return undefined;
    }
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) { if (!outside(value)) { src.set.call(this, value); } }
  });
})();
