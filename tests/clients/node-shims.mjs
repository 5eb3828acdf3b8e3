// Node 20 lacks a few built-ins that @platformatic/kafka (written for Node 22+) uses.
// Preloaded with `node --import`; defines only what is missing, exactly as specified.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
